import { describe, expect, it } from "vitest";
import { lastBoxedAnswer } from "../../worker/answers/extract";
import { mayFinish, withFinalAnswers } from "../../worker/streams/final-answers";

const chat = (index: number, content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index, delta: { content }, logprobs: null, finish_reason: finish }] })}`;
const text = (index: number, t: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c", object: "text_completion", created: 1, model: "m", choices: [{ index, text: t, logprobs: null, finish_reason: finish }] })}`;
const finalOf = (event: string, index = 0) =>
  (JSON.parse(event.slice(6)) as { choices: { index: number; final_answer?: string | null }[] }).choices.find((c) => c.index === index)?.final_answer;

/** Splits `s` into pieces of `size` characters, as tokens arrive. */
const pieces = (s: string, size: number) => Array.from({ length: Math.ceil(s.length / size) }, (_, i) => s.slice(i * size, (i + 1) * size));

describe("withFinalAnswers (the finishing chunk's final_answer)", () => {
  it("leaves a chunk that finishes nothing untouched (the same string)", () => {
    const event = chat(0, "\\boxed{1}");
    expect(mayFinish(event)).toBe(false);
    expect(withFinalAnswers(event, [], "chat")).toBe(event);
  });

  it("gives the answer lastBoxedAnswer gives for the whole text, however the text is cut into tokens", () => {
    const solution = "First \\boxed{2} is wrong. Then $x = \\boxed{\\frac{1}{\\sqrt{2}}}$, so the answer is that.";
    for (const size of [1, 2, 3, 5, 7, 40]) {
      const parts = pieces(solution, size);
      const earlier = parts.slice(0, -1).map((p) => chat(0, p));
      const last = withFinalAnswers(chat(0, parts.at(-1)!, "stop"), earlier, "chat");
      expect(finalOf(last), `size ${size}`).toBe(lastBoxedAnswer(solution));
    }
  });

  it("reads each choice's own text when choices interleave, for completions too, and the empty finishing chunk", () => {
    const a = pieces("so \\boxed{0.5}", 2).map((p) => text(0, p));
    const b = pieces("so \\boxed{3} and done", 3).map((p) => text(1, p));
    const earlier = a.flatMap((e, i) => [e, b[i] ?? text(1, "")]);
    expect(finalOf(withFinalAnswers(text(0, "", "stop"), earlier, "completion"), 0)).toBe("0.5");
    expect(finalOf(withFinalAnswers(text(1, "", "length"), [...earlier, ...b.slice(a.length)], "completion"), 1)).toBe("3");
  });

  it("is null for a cut answer (no box, or an unclosed last box)", () => {
    expect(finalOf(withFinalAnswers(chat(0, "", "length"), [chat(0, "no box here")], "chat"))).toBeNull();
    expect(finalOf(withFinalAnswers(chat(0, "{1}{", "length"), [chat(0, "\\boxed{\\frac")], "chat"))).toBeNull();
  });
});
