import { describe, expect, it } from "vitest";
import { api, errorOf } from "../helpers/api";

const chat = { model: "limo", messages: [{ role: "user", content: "What is 1+1?" }] };

describe("request validation", () => {
  const a = api();

  it.each([
    ["an unknown field", { ...chat, foo: 1 }, "unknown_parameter", "foo"],
    ["an unknown nested field", { ...chat, messages: [{ role: "user", content: "x", bar: 1 }] }, "unknown_parameter", "messages[0].bar"],
    ["a wrongly typed field", { ...chat, temperature: "hot" }, "invalid_type", "temperature"],
    ["a missing field", { model: "limo" }, "missing_required_parameter", "messages"],
    ["n over the maximum", { ...chat, n: 9 }, "invalid_value", "n"],
    ["n of zero", { ...chat, n: 0 }, "invalid_value", "n"],
    ["a negative max_tokens", { ...chat, max_tokens: -1 }, "invalid_value", "max_tokens"],
    ["a fractional max_tokens", { ...chat, max_tokens: 1.5 }, "invalid_type", "max_tokens"],
    ["temperature above 2", { ...chat, temperature: 2.5 }, "invalid_value", "temperature"],
    ["top_p of zero", { ...chat, top_p: 0 }, "invalid_value", "top_p"],
    ["an unknown role", { ...chat, messages: [{ role: "robot", content: "x" }] }, "invalid_value", "messages[0].role"],
    ["a tool result (LIMO calls no tools)", { ...chat, messages: [{ role: "tool", content: "x", tool_call_id: "c1" }] }, "unsupported_parameter", "messages[0].role"],
    ["empty messages", { ...chat, messages: [] }, "invalid_value", "messages"],
    ["a non-text content part", { ...chat, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] }, "unsupported_parameter", "messages[0].content[0]"],
    ["an unknown content part", { ...chat, messages: [{ role: "user", content: [{ type: "video", video: "x" }] }] }, "invalid_type", "messages[0].content"],
    ["stream_options without stream", { ...chat, stream_options: { include_usage: true } }, "invalid_value", "stream_options"],
    ["an unknown stream_options field", { ...chat, stream: true, stream_options: { foo: true } }, "unknown_parameter", "stream_options.foo"],
    ["top_logprobs without logprobs", { ...chat, top_logprobs: 2 }, "invalid_value", "top_logprobs"],
    ["stop with too many entries", { ...chat, stop: Array.from({ length: 17 }, (_, i) => `s${i}`) }, "invalid_type", "stop"],
  ])("rejects %s on chat with a 400 naming it", async (_name, body, code, param) => {
    const res = await a.post("/v1/chat/completions", body);
    expect(res.status).toBe(400);
    expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{24}$/);
    const error = await errorOf(res);
    expect(error).toMatchObject({ type: "invalid_request_error", code, param });
    if (code === "unknown_parameter") expect(error.message).toContain(param);
  });

  it.each([
    ["an unknown field", { model: "limo", prompt: "x", temprature: 0 }, "unknown_parameter", "temprature"],
    ["echo (OpenAI's, not served)", { model: "limo", prompt: "x", echo: true }, "unsupported_parameter", "echo"],
    ["a missing prompt", { model: "limo" }, "missing_required_parameter", "prompt"],
    ["a boolean logprobs", { model: "limo", prompt: "x", logprobs: true }, "invalid_type", "logprobs"],
    ["a batch of prompts", { model: "limo", prompt: ["a", "b"] }, "unsupported_parameter", "prompt"],
  ])("rejects %s on completions", async (_name, body, code, param) => {
    const res = await a.post("/v1/completions", body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code, param });
  });

  it("rejects a body that is not JSON", async () => {
    const res = await a.post("/v1/chat/completions", "{not json");
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_json", type: "invalid_request_error" });
  });

  it.each([["an array", "[]"], ["a number", "3"], ["null", "null"], ["an empty body", ""]])(
    "rejects %s as the body",
    async (_name, body) => {
      const res = await a.post("/v1/chat/completions", body);
      expect(res.status).toBe(400);
      await errorOf(res);
    },
  );

  it("rejects a body over 1 MiB with a 413", async () => {
    const big = { ...chat, messages: [{ role: "user", content: "x".repeat(1024 * 1024) }] };
    const res = await a.post("/v1/chat/completions", big);
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toMatchObject({ code: "request_too_large" });
  });

  it("rejects a prompt that can never fit the context", async () => {
    const long = { ...chat, messages: [{ role: "user", content: "word ".repeat(110_000) }] };
    const res = await a.post("/v1/chat/completions", long);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "context_length_exceeded" });
  });

  it("answers an unknown model with a 404", async () => {
    const res = await a.post("/v1/chat/completions", { ...chat, model: "gpt-4o" });
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "model_not_found", param: "model" });
  });
});
