import { describe, expect, it } from "vitest";
import { LIMO_SYSTEM_PROMPT, MAX_MODEL_LEN_TOKENS } from "../../shared/constants";
import { ChatCompletionRequestSchema, CompletionRequestSchema } from "../../shared/openai";
import { estimateChatTokens } from "../../shared/tokens";
import { loadDeployment, resolveModel } from "../../worker/routing/catalogue";
import { prepareChat, prepareCompletion } from "../../worker/generations/prepare";

const deployment = loadDeployment(JSON.stringify([{ name: "b", url: "http://127.0.0.1:1", models: ["GAIR/LIMO"] }]));
const resolved = resolveModel(deployment, "limo");
const chat = (extra: object = {}) =>
  ChatCompletionRequestSchema.parse({ model: "limo", messages: [{ role: "user", content: "What is 2+2?" }], ...extra });

describe("LIMO defaults at the edge", () => {
  it("prepends LIMO's system prompt only when the client sent none", () => {
    const body = prepareChat(chat(), resolved).backendBody;
    expect(body.messages).toEqual([
      { role: "system", content: LIMO_SYSTEM_PROMPT },
      { role: "user", content: "What is 2+2?" },
    ]);
    const own = chat({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "x" }] });
    expect((prepareChat(own, resolved).backendBody.messages as unknown[])[0]).toEqual({ role: "system", content: "Be brief." });
    expect((prepareChat(chat(), resolved, "Custom.").backendBody.messages as { content: string }[])[0]!.content).toBe("Custom.");
  });

  it("fills temperature and top_p, and keeps the client's", () => {
    expect(prepareChat(chat(), resolved).backendBody).toMatchObject({ temperature: 0.7, top_p: 0.95 });
    expect(prepareChat(chat({ temperature: 0, top_p: 1 }), resolved).backendBody).toMatchObject({ temperature: 0, top_p: 1 });
  });

  it("always streams to the backend with usage, and sends the served name", () => {
    const p = prepareChat(chat({ stream: false, user: "u1", seed: 7, stop: ["x"], n: 2 }), resolved);
    expect(p.stream).toBe(false);
    expect(p.backendBody).toMatchObject({
      model: "GAIR/LIMO",
      stream: true,
      stream_options: { include_usage: true },
      seed: 7,
      stop: ["x"],
      n: 2,
    });
    expect(p.backendBody).not.toHaveProperty("max_completion_tokens");
    // The end-user tag is LIMO's (ledger, limits), not the backend's.
    expect(p.backendBody).not.toHaveProperty("user");
  });

  it("defaults max_tokens to what fits the context, and clamps a larger one", () => {
    const p = prepareChat(chat(), resolved);
    const estimate = estimateChatTokens([{ content: LIMO_SYSTEM_PROMPT }, { content: "What is 2+2?" }]);
    expect(p.promptTokensEstimate).toBe(estimate);
    expect(p.maxTokens).toBe(MAX_MODEL_LEN_TOKENS - estimate);
    expect(prepareChat(chat({ max_tokens: 1_000_000 }), resolved).maxTokens).toBe(MAX_MODEL_LEN_TOKENS - estimate);
    expect(prepareChat(chat({ max_tokens: 100 }), resolved).backendBody.max_tokens).toBe(100);
    expect(prepareChat(chat({ max_tokens: 100, max_completion_tokens: 50 }), resolved).maxTokens).toBe(50);
  });

  it("treats null as unset", () => {
    const p = prepareChat(chat({ temperature: null, seed: null }), resolved);
    expect(p.backendBody.temperature).toBe(0.7);
    expect(p.backendBody).not.toHaveProperty("seed");
  });

  it("prepares completions with the prompt as a string", () => {
    const p = prepareCompletion(CompletionRequestSchema.parse({ model: "limo", prompt: ["2+2="], max_tokens: 5 }), resolved);
    expect(p.path).toBe("/v1/completions");
    expect(p.backendBody).toMatchObject({ prompt: "2+2=", max_tokens: 5, stream: true });
  });
});
