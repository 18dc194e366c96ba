import { describe, expect, it } from "vitest";
import type { ChatCompletion, ChatCompletionChunk, Completion, CompletionChunk } from "../../shared/openai";
import { api, simBackends } from "../helpers/api";
import { newSim } from "../helpers/sim";
import { jsonChunks, readEvents } from "../helpers/sse";

const ask = { model: "limo", messages: [{ role: "user", content: "What is 17 * 23?" }] };

async function setup() {
  const sim = newSim();
  return { sim, a: api({ BACKENDS: simBackends(sim.url) }) };
}

describe("chat completions", () => {
  it("answers a non-streaming request with a chat.completion assembled from the stream", async () => {
    const { sim, a } = await setup();
    const res = await a.post("/v1/chat/completions", ask);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    const body = (await res.json()) as ChatCompletion;
    expect(body.object).toBe("chat.completion");
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.model).toBe("GAIR/LIMO");
    expect(body.choices).toHaveLength(1);
    expect(body.choices[0]!.message.role).toBe("assistant");
    expect(body.choices[0]!.message.content).toMatch(/\\boxed\{.+\}/);
    expect(body.choices[0]!.finish_reason).toBe("stop");
    const stats = await sim.waitForIdle();
    expect(stats.requests_total).toBe(1);
    expect(body.usage.completion_tokens).toBe(stats.tokens_generated_total);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it("streams chunk by chunk and ends with [DONE], without usage unless asked", async () => {
    const { a } = await setup();
    const res = await a.post("/v1/chat/completions", { ...ask, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readEvents(res);
    expect(events.data.at(-1)).toBe("[DONE]");
    const chunks = jsonChunks<ChatCompletionChunk>(events);
    expect(chunks.length).toBeGreaterThan(20);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.choices.length === 1)).toBe(true);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
    const text = chunks.map((c) => c.choices[0]!.delta.content ?? "").join("");
    expect(text).toMatch(/\\boxed\{.+\}/);
  });

  it("sends the usage chunk last when include_usage is set, equal to the tokens streamed", async () => {
    const { sim, a } = await setup();
    const res = await a.post("/v1/chat/completions", { ...ask, stream: true, stream_options: { include_usage: true } });
    const chunks = jsonChunks<ChatCompletionChunk>(await readEvents(res));
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content).length;
    expect(last.usage!.completion_tokens).toBe(contentChunks);
    expect((await sim.waitForIdle()).tokens_generated_total).toBe(contentChunks);
  });

  it("gives the same answer streamed and not, at temperature 0", async () => {
    const { a } = await setup();
    const body = { ...ask, temperature: 0 };
    const json = (await (await a.post("/v1/chat/completions", body)).json()) as ChatCompletion;
    const chunks = jsonChunks<ChatCompletionChunk>(await readEvents(await a.post("/v1/chat/completions", { ...body, stream: true })));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(json.choices[0]!.message.content);
  });

  it("returns n choices with usage summed over them", async () => {
    const { sim, a } = await setup();
    const body = (await (await a.post("/v1/chat/completions", { ...ask, n: 3 })).json()) as ChatCompletion;
    expect(body.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(body.choices.every((c) => c.message.content.length > 0)).toBe(true);
    expect(body.usage.completion_tokens).toBe((await sim.waitForIdle()).tokens_generated_total);
  });

  it("honours max_tokens with finish_reason length, and stop sequences", async () => {
    const { a } = await setup();
    const short = (await (await a.post("/v1/chat/completions", { ...ask, max_tokens: 5 })).json()) as ChatCompletion;
    expect(short.choices[0]!.finish_reason).toBe("length");
    expect(short.usage.completion_tokens).toBe(5);
    const full = (await (await a.post("/v1/chat/completions", { ...ask, temperature: 0 })).json()) as ChatCompletion;
    const word = full.choices[0]!.message.content.split(/\s+/)[6]!;
    const stopped = (await (await a.post("/v1/chat/completions", { ...ask, temperature: 0, stop: [word] })).json()) as ChatCompletion;
    expect(stopped.choices[0]!.finish_reason).toBe("stop");
    expect(stopped.choices[0]!.message.content).not.toContain(word);
  });

  it("accepts text content parts and the served model name", async () => {
    const { a } = await setup();
    const res = await a.post("/v1/chat/completions", {
      model: "GAIR/LIMO-v2",
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
      max_tokens: 3,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as ChatCompletion).model).toBe("GAIR/LIMO-v2");
  });

  it("returns logprobs when asked", async () => {
    const { a } = await setup();
    const res = await a.post("/v1/chat/completions", { ...ask, max_tokens: 4, logprobs: true, top_logprobs: 2 });
    const body = (await res.json()) as ChatCompletion;
    const lp = body.choices[0]!.logprobs as { content: { token: string; top_logprobs: unknown[] }[] };
    expect(lp.content).toHaveLength(4);
    expect(lp.content[0]!.top_logprobs).toHaveLength(2);
  });

  it("accepts a body sent without a JSON content type", async () => {
    const { a } = await setup();
    const res = await a.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${a.env.DEV_API_KEY}`, "content-type": "application/x-www-form-urlencoded" },
      body: JSON.stringify({ ...ask, max_tokens: 2 }),
    });
    expect(res.status).toBe(200);
  });
});

describe("completions", () => {
  it("answers a text_completion, streamed and not", async () => {
    const { sim, a } = await setup();
    const prompt = "Question: what is 3+4? Answer:";
    const json = (await (await a.post("/v1/completions", { model: "limo", prompt, max_tokens: 12 })).json()) as Completion;
    expect(json.object).toBe("text_completion");
    expect(json.id).toMatch(/^cmpl-/);
    expect(json.choices[0]!.text.length).toBeGreaterThan(0);
    expect(json.usage.completion_tokens).toBe(12);
    const res = await a.post("/v1/completions", { model: "limo", prompt, max_tokens: 12, stream: true, stream_options: { include_usage: true } });
    const chunks = jsonChunks<CompletionChunk>(await readEvents(res));
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(12);
    expect(chunks.slice(0, -1).every((c) => c.object === "text_completion")).toBe(true);
    expect((await sim.waitForIdle()).tokens_generated_total).toBe(24);
  });
});
