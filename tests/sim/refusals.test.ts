/**
 * @module sim/refusals.test
 * The simulator refuses what vLLM refuses, in vLLM's two shapes of 400: a
 * VLLMValidationError raised while serving ("BadRequestError", `param` naming
 * the limit, the message ending "(parameter=..., value=...)"), and a body that
 * fails request validation ("Bad Request" from FastAPI's handler, `param` the
 * field). A caller keys on the status and `param`, never on the message.
 */
import { describe, expect, it } from "vitest";
import { newSim } from "../helpers/sim";

const question = "What is the sum of the first ten prime numbers?";

async function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}
const chat = (url: string, body: Record<string, unknown>) =>
  post(url, "/v1/chat/completions", { model: "GAIR/LIMO", messages: [{ role: "user", content: question }], ...body });

/** A user message of exactly `tokens` prompt tokens (ChatML: primer 3 + per message 4 + ceil(bytes / 4)). */
const messagesOf = (tokens: number) => [{ role: "user", content: "x".repeat((tokens - 7) * 4) }];

describe("the context window", () => {
  it("refuses a prompt that leaves no room for the requested output: param input_tokens", async () => {
    const { url } = newSim();
    const P = 32_507;
    const res = await post(url, "/v1/chat/completions", { model: "GAIR/LIMO", messages: messagesOf(P), max_tokens: 1000 });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        message:
          `You passed ${P} input tokens and requested 1000 output tokens. However, the model's context length is only 32768 tokens, ` +
          `resulting in a maximum input length of 31768 tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=${P})`,
        type: "BadRequestError",
        param: "input_tokens",
        code: 400,
      },
    });
    // Without max_tokens the completion may fill the rest of the window...
    expect((await post(url, "/v1/chat/completions", { model: "GAIR/LIMO", messages: messagesOf(P) })).status).toBe(200);
    // ...and a completion's default of 16 output tokens counts against it.
    const tooLong = await post(url, "/v1/completions", { model: "GAIR/LIMO", prompt: "x".repeat((32_768 - 15) * 4) });
    expect(await tooLong.json()).toMatchObject({ error: { param: "input_tokens", type: "BadRequestError", code: 400, message: expect.stringMatching(/requested 16 output tokens/) } });
  });

  it("refuses a prompt longer than the window even without max_tokens, and one that fills it exactly", async () => {
    const { url } = newSim();
    const over = await post(url, "/v1/chat/completions", { model: "GAIR/LIMO", messages: messagesOf(32_769) });
    expect(await over.json()).toMatchObject({ error: { param: "input_tokens", code: 400, message: expect.stringMatching(/^You passed 32769 input tokens and requested 0 output tokens\./) } });
    // It fits, but leaves nothing to generate: SamplingParams wants at least one token.
    const full = await post(url, "/v1/chat/completions", { model: "GAIR/LIMO", messages: messagesOf(32_768) });
    expect(await full.json()).toEqual({
      error: { message: "max_tokens must be at least 1, got 0. (parameter=max_tokens, value=0)", type: "BadRequestError", param: "max_tokens", code: 400 },
    });
  });

  it("refuses an output request larger than the window, naming the field it came from", async () => {
    const { url } = newSim();
    const res = await chat(url, { max_tokens: 40_000 });
    expect(await res.json()).toEqual({
      error: {
        // vLLM's text as it is, missing space and `{max_total_tokens=}` format included.
        message: "max_tokens=40000cannot be greater than max_model_len=max_total_tokens=32768. Please request fewer output tokens. (parameter=max_tokens, value=40000)",
        type: "BadRequestError",
        param: "max_tokens",
        code: 400,
      },
    });
    const newer = await chat(url, { max_completion_tokens: 40_000 });
    expect(await newer.json()).toMatchObject({ error: { param: "max_completion_tokens", message: expect.stringMatching(/^max_completion_tokens=40000cannot/) } });
  });

  it("counts refusals as rejected, never as generations", async () => {
    const sim = newSim();
    await chat(sim.url, { max_tokens: 40_000 });
    expect(await sim.waitForIdle()).toMatchObject({ requests_total: 1, rejected_total: 1, completed_total: 0, tokens_generated_total: 0 });
  });
});

describe("request validation", () => {
  it("answers an unknown model with vLLM's 404, which names no param", async () => {
    const { url } = newSim();
    const res = await chat(url, { model: "gpt-4" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: "The model `gpt-4` does not exist.", type: "NotFoundError", param: null, code: 404 } });
  });

  it.each([
    ["a wrong type", { temperature: "hot" }, "body.temperature"],
    ["n above 8", { n: 9 }, "body.n"],
    ["max_tokens 0", { max_tokens: 0 }, "body.max_tokens"],
    ["no messages", { messages: [] }, "body.messages"],
    ["stream_options without stream", { stream_options: { include_usage: true } }, "stream_options"],
    ["top_logprobs without logprobs", { top_logprobs: 2 }, "top_logprobs"],
    ["a json_schema format without its schema", { response_format: { type: "json_schema" } }, "response_format"],
    ["two structured-output constraints", { structured_outputs: { regex: "a+", choice: ["a"] } }, "body"],
  ])("answers %s with FastAPI's 400 naming %s", async (_, body, param) => {
    const { url } = newSim();
    const res = await chat(url, body);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as any;
    expect(error).toEqual({ message: expect.stringMatching(/^1 validation error:\n {2}/), type: "Bad Request", param, code: 400 });
  });

  it("names the parameter of a before-validator failure in its message, as str(VLLMValidationError) does", async () => {
    const { url } = newSim();
    const { error } = (await (await chat(url, { stream_options: { include_usage: true } })).json()) as any;
    expect(error.message).toContain("Stream options can only be defined when `stream=True`. (parameter=stream_options)");
    const empty = (await (await post(url, "/v1/completions", { model: "GAIR/LIMO", prompt: "" })).json()) as any;
    expect(empty.error).toMatchObject({ param: "prompt", message: expect.stringContaining("Either prompt or prompt_embeds must be provided and non-empty.") });
  });

  it("takes application/json only, and a body that is JSON", async () => {
    const { url } = newSim();
    const untyped = await fetch(`${url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }) });
    expect(untyped.status).toBe(400);
    expect(await untyped.json()).toEqual({
      error: { message: "1 validation error:\n  Unsupported Media Type: Only 'application/json' is allowed", type: "Bad Request", param: null, code: 400 },
    });
    const broken = await fetch(`${url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json; charset=utf-8" }, body: "{not json" });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ error: { type: "Bad Request", param: "body.0", message: expect.stringContaining("JSON decode error") } });
  });
});
