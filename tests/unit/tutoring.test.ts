import { describe, expect, it } from "vitest";
import type { ChatCompletionRequest } from "../../shared/openai";
import { ApiError } from "../../worker/core/errors";
import { hintPrompt, tutorMessages } from "../../worker/tutoring/prompts";
import { planTutorRequest } from "../../worker/tutoring/tutor-request";
import { DEFAULT_TUTOR_MAX_REGENERATIONS, maxRegenerations } from "../../worker/tutoring/tutor-service";

const request = (messages: ChatCompletionRequest["messages"], tutor: ChatCompletionRequest["tutor"]): ChatCompletionRequest & Record<string, unknown> => ({
  model: "limo",
  messages,
  tutor,
});

describe("planTutorRequest", () => {
  it("takes the problem from the first user message and the student's answer from the last", () => {
    const plan = planTutorRequest(
      request(
        [
          { role: "system", content: "Be kind." },
          { role: "user", content: "Solve 2x = 1." },
          { role: "assistant", content: "What do you get?" },
          { role: "user", content: [{ type: "text", text: "I got x = " }, { type: "text", text: "0.5" }] },
        ],
        { mode: "check" },
      ),
    );
    expect(plan).toEqual({ mode: "check", reference: null, problem: "Solve 2x = 1.", studentAnswer: "0.5" });
  });

  it("names the field it refuses", () => {
    const refused = (r: ChatCompletionRequest & Record<string, unknown>) => {
      try {
        planTutorRequest(r);
      } catch (e) {
        return e instanceof ApiError ? e.param : String(e);
      }
      return null;
    };
    const base = request([{ role: "user", content: "Solve 2x = 1." }], { mode: "hint", reference_answer: "1/2" });
    expect(refused({ ...base, vote: true })).toBe("vote");
    expect(refused({ ...base, response_format: { type: "json_object" } })).toBe("response_format");
    expect(refused({ ...base, response_format: { type: "text" } })).toBeNull();
    expect(refused({ ...base, logprobs: false })).toBeNull();
    expect(refused({ ...base, top_logprobs: 0 })).toBe("top_logprobs");
  });
});

describe("tutorMessages", () => {
  it("puts the tutoring prompt first and the platform's system text after it, as context", () => {
    const out = tutorMessages(hintPrompt("7"), [
      { role: "system", content: "Use British spelling." },
      { role: "user", content: "What is 3 + 4?" },
    ]);
    expect(out.map((m) => m.role)).toEqual(["system", "user"]);
    expect(out[0]!.content).toMatch(/^You are a patient math tutor[\s\S]*hint[\s\S]*Do not reveal the final answer[\s\S]*is 7\.[\s\S]*Use British spelling\.$/);
  });
});

describe("TUTOR_MAX_REGENERATIONS", () => {
  it("defaults to 2, accepts 0, and is bounded", () => {
    expect(maxRegenerations({})).toBe(DEFAULT_TUTOR_MAX_REGENERATIONS);
    expect(maxRegenerations({ TUTOR_MAX_REGENERATIONS: "0" })).toBe(0);
    expect(maxRegenerations({ TUTOR_MAX_REGENERATIONS: "-1" })).toBe(2);
    expect(maxRegenerations({ TUTOR_MAX_REGENERATIONS: "99" })).toBe(5);
  });
});
