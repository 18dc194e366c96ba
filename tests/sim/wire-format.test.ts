/**
 * @module sim/wire-format.test
 * The simulator speaks vLLM's OpenAI wire format as vLLM's current source
 * writes it (vllm/entrypoints/openai/{chat_completion,completion}/serving.py):
 * chunk shapes with their null fields, the finish in the same chunk as the
 * last token, system_fingerprint, usage, [DONE], n, stop, max_tokens and
 * completions' default of 16, logprobs and determinism. Refusals are in
 * refusals.test.ts.
 */
import { describe, expect, it } from "vitest";
import { newSim, readSseData } from "../helpers/sim";

const question = "What is the sum of the first ten prime numbers?";
const messages = [{ role: "user", content: question }];
/** ChatML: primer 3 + per message 4 + ceil(bytes / 4). */
const promptTokens = 3 + 4 + Math.ceil(question.length / 4);

async function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

const chat = (url: string, body: Record<string, unknown>) => post(url, "/v1/chat/completions", { model: "GAIR/LIMO", messages, ...body });
const complete = (url: string, body: Record<string, unknown>) => post(url, "/v1/completions", { model: "GAIR/LIMO", prompt: question, ...body });

type Chunk = { id: string; object: string; created: number; model: string; choices: any[]; usage?: any };
const parse = (data: string[]) => data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as Chunk);
/** The tokens a choice streamed: every chunk but chat's role chunk, without the empty end-of-sequence chunk. */
const contentOf = (chunks: Chunk[], index = 0): string[] =>
  chunks
    .flatMap((c) => c.choices.filter((ch) => ch.index === index && ch.delta?.role === undefined))
    .map((ch) => (ch.delta?.content ?? ch.text) as string)
    .filter((t) => t !== "");
/** `--fingerprint-mode full`: vllm-<version>-<8 hex of the config hash>. */
const FINGERPRINT = /^vllm-0\.21\.0-[0-9a-f]{8}$/;

describe("streaming chat completions", () => {
  it("sends vLLM's chunks: role, one token each, the finish, usage, then [DONE]", async () => {
    const { url } = newSim();
    const res = await chat(url, { stream: true, stream_options: { include_usage: true }, temperature: 0 });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const data = await readSseData(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = parse(data);
    const { id, created } = chunks[0]!;
    expect(id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    for (const c of chunks) expect(c).toMatchObject({ id, object: "chat.completion.chunk", created, model: "GAIR/LIMO" });
    expect(Number.isInteger(created)).toBe(true);

    // Exact bytes, as pydantic's model_dump_json(exclude_unset=True) writes them.
    const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":"GAIR/LIMO","choices":`;
    // The role chunk sets prompt_token_ids and prompt_text (both off): null, but present.
    expect(data[0]).toBe(`${head}[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"prompt_token_ids":null,"prompt_text":null}`);
    expect(data[1]).toMatch(/^\{"id":"chatcmpl-[0-9a-f]{32}","object":"chat\.completion\.chunk","created":\d+,"model":"GAIR\/LIMO","choices":\[\{"index":0,"delta":\{"content":"[^"]+"\},"logprobs":null,"finish_reason":null,"token_ids":null\}\]\}$/);
    // An end of sequence: one more chunk with the EOS token's empty text; the fingerprint waits for the usage chunk.
    expect(data.at(-3)).toBe(`${head}[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop","stop_reason":null,"token_ids":null}]}`);

    const tokens = contentOf(chunks);
    expect(tokens.join("")).toMatch(/^(Okay|Alright)[^]*\\boxed\{\d+\}\.$/);
    const C = tokens.length;
    const usageChunk = JSON.parse(data.at(-2)!);
    expect(usageChunk.system_fingerprint).toMatch(FINGERPRINT);
    expect(data.at(-2)).toBe(
      `${head}[],"usage":{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens + C},"completion_tokens":${C}},"system_fingerprint":"${usageChunk.system_fingerprint}"}`,
    );
  });

  it("sends no usage chunk unless include_usage is true, and then the fingerprint on the finishing chunk", async () => {
    const { url } = newSim();
    for (const stream_options of [undefined, { include_usage: false }]) {
      const chunks = parse(await readSseData(await chat(url, { stream: true, stream_options, max_tokens: 5 })));
      expect(chunks.some((c) => "usage" in c)).toBe(false);
      // max_tokens: the fifth token and the finish share one chunk.
      const last = chunks.at(-1)! as Chunk & { system_fingerprint?: string };
      expect(last.choices[0]).toEqual({ index: 0, delta: { content: expect.stringMatching(/.+/) }, logprobs: null, finish_reason: "length", stop_reason: null, token_ids: null });
      expect(last.system_fingerprint).toMatch(FINGERPRINT);
      expect(chunks.slice(0, -1).some((c) => "system_fingerprint" in c)).toBe(false);
      expect(contentOf(chunks)).toHaveLength(5);
    }
  });

  it("interleaves n choices, one choice per chunk, and sums their tokens", async () => {
    const { url } = newSim();
    const chunks = parse(await readSseData(await chat(url, { stream: true, n: 3, stream_options: { include_usage: true } })));
    expect(chunks.every((c) => c.choices.length === 1 || (c.choices.length === 0 && c.usage))).toBe(true);
    const content = chunks.filter((c) => c.choices[0]?.delta?.content && c.choices[0].finish_reason === null);
    expect(content.slice(0, 3).map((c) => c.choices[0].index)).toEqual([0, 1, 2]);
    let sum = 0;
    for (const i of [0, 1, 2]) {
      const mine = chunks.filter((c) => c.choices[0]?.index === i);
      expect(mine[0]!.choices[0].delta).toEqual({ role: "assistant", content: "" });
      expect(mine.at(-1)!.choices[0].finish_reason).toBe("stop");
      sum += contentOf(chunks, i).length;
    }
    expect(chunks.at(-1)!.usage.completion_tokens).toBe(sum);
  });

  it("cuts at max_tokens with finish_reason length, losing the boxed answer", async () => {
    const { url } = newSim();
    const chunks = parse(await readSseData(await chat(url, { stream: true, max_tokens: 7, stream_options: { include_usage: true } })));
    const tokens = contentOf(chunks);
    expect(tokens).toHaveLength(7);
    expect(tokens.join("")).not.toContain("\\boxed");
    expect(chunks.at(-2)!.choices[0]).toMatchObject({ delta: { content: tokens[6] }, finish_reason: "length", stop_reason: null });
    expect(chunks.at(-1)!.usage.completion_tokens).toBe(7);
  });

  it("stops before a stop string and reports it as stop_reason", async () => {
    const { url } = newSim();
    const full = (await (await chat(url, { temperature: 0 })).json()) as any;
    const text: string = full.choices[0].message.content;
    const res = await chat(url, { stream: true, temperature: 0, stop: ["Step 2:", "never appears"] });
    const chunks = parse(await readSseData(res));
    const kept = contentOf(chunks);
    expect(kept.join("")).toBe(text.slice(0, text.indexOf("Step 2:")));
    // The stop string ends the choice in the chunk of its last kept token.
    expect(chunks.at(-1)!.choices[0]).toMatchObject({ delta: { content: kept.at(-1) }, finish_reason: "stop", stop_reason: "Step 2:" });
  });

  it("adds well-formed logprobs when asked", async () => {
    const { url } = newSim();
    const chunks = parse(await readSseData(await chat(url, { stream: true, max_tokens: 4, logprobs: true, top_logprobs: 2 })));
    const content = chunks.filter((c) => c.choices[0]?.delta?.content);
    expect(content).toHaveLength(4);
    for (const c of content) {
      const [entry] = c.choices[0].logprobs.content;
      expect(entry.token).toBe(c.choices[0].delta.content);
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.bytes).toEqual([...new TextEncoder().encode(entry.token)]);
      expect(entry.top_logprobs).toHaveLength(2);
      expect(entry.top_logprobs[0]).toMatchObject({ token: entry.token, logprob: entry.logprob });
    }
  });
});

describe("streaming completions", () => {
  it("sends text_completion chunks without a role chunk", async () => {
    const { url } = newSim();
    const data = await readSseData(await complete(url, { stream: true, max_tokens: 6, stream_options: { include_usage: true } }));
    const chunks = parse(data);
    expect(chunks[0]!.id).toMatch(/^cmpl-[0-9a-f]{32}$/);
    const head = `{"id":"${chunks[0]!.id}","object":"text_completion","created":${chunks[0]!.created},"model":"GAIR/LIMO","choices":`;
    // Completions set stop_reason, prompt_token_ids and token_ids on every chunk.
    expect(data[0]).toMatch(/^\{"id":"cmpl-[0-9a-f]{32}","object":"text_completion","created":\d+,"model":"GAIR\/LIMO","choices":\[\{"index":0,"text":"[^"]+","logprobs":null,"finish_reason":null,"stop_reason":null,"prompt_token_ids":null,"token_ids":null\}\]\}$/);
    const sixth = JSON.stringify(contentOf(chunks)[5]);
    expect(data.at(-3)).toBe(`${head}[{"index":0,"text":${sixth},"logprobs":null,"finish_reason":"length","stop_reason":null,"prompt_token_ids":null,"token_ids":null}]}`);
    const P = Math.ceil(question.length / 4);
    const fp = JSON.parse(data.at(-2)!).system_fingerprint as string;
    expect(fp).toMatch(FINGERPRINT);
    expect(data.at(-2)).toBe(`${head}[],"usage":{"prompt_tokens":${P},"total_tokens":${P + 6},"completion_tokens":6},"system_fingerprint":"${fp}"}`);
    expect(data.at(-1)).toBe("[DONE]");
    expect(contentOf(chunks)).toHaveLength(6);
  });

  it("adds completions-style logprobs", async () => {
    const { url } = newSim();
    const chunks = parse(await readSseData(await complete(url, { stream: true, max_tokens: 3, logprobs: 2 })));
    const content = chunks.filter((c) => c.choices[0]?.text);
    let offset = 0;
    for (const c of content) {
      const { text, logprobs } = c.choices[0];
      expect(logprobs).toMatchObject({ text_offset: [offset], tokens: [text] });
      expect(logprobs.token_logprobs[0]).toBeLessThanOrEqual(0);
      expect(Object.keys(logprobs.top_logprobs[0])).toContain(text);
      offset += text.length;
    }
  });
});

describe("non-streaming responses", () => {
  it("answers chat with one chat.completion, the same text as the stream at temperature 0", async () => {
    const { url } = newSim();
    const res = await chat(url, { temperature: 0 });
    expect(res.headers.get("content-type")).toBe("application/json");
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ object: "chat.completion", model: "GAIR/LIMO", usage: { prompt_tokens: promptTokens } });
    expect(body.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    const streamed = contentOf(parse(await readSseData(await chat(url, { temperature: 0, stream: true }))));
    // model_dump(): every field, nulls included; an empty tool_calls list is dropped.
    expect(body).toEqual({
      id: body.id,
      object: "chat.completion",
      created: body.created,
      model: "GAIR/LIMO",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: streamed.join(""), refusal: null, annotations: null, audio: null, function_call: null, reasoning: null },
          logprobs: null,
          finish_reason: "stop",
          stop_reason: null,
          token_ids: null,
          routed_experts: null,
        },
      ],
      service_tier: null,
      system_fingerprint: expect.stringMatching(FINGERPRINT),
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens + streamed.length, completion_tokens: streamed.length, prompt_tokens_details: null, completion_tokens_details: null },
      prompt_logprobs: null,
      prompt_token_ids: null,
      prompt_text: null,
      kv_transfer_params: null,
      ec_transfer_params: null,
      metrics: null,
    });
  });

  it("answers completions with a text_completion, prompt given as a one-string list", async () => {
    const { url } = newSim();
    const body = (await (await post(url, "/v1/completions", { model: "GAIR/LIMO-v2", prompt: [question], max_tokens: 5, n: 2 })).json()) as any;
    expect(body).toMatchObject({ object: "text_completion", model: "GAIR/LIMO-v2", usage: { completion_tokens: 10 } });
    expect(body.choices.map((c: any) => [c.index, c.finish_reason])).toEqual([[0, "length"], [1, "length"]]);
    expect(Object.keys(body)).toEqual(["id", "object", "created", "model", "choices", "service_tier", "system_fingerprint", "usage", "kv_transfer_params", "ec_transfer_params", "metrics"]);
    expect(Object.keys(body.choices[0])).toEqual(["index", "text", "logprobs", "finish_reason", "stop_reason", "token_ids", "prompt_logprobs", "prompt_token_ids", "routed_experts"]);
  });

  it("stops a completion without max_tokens at 16 tokens, as vLLM's CompletionRequest does (null too)", async () => {
    const { url } = newSim();
    for (const extra of [{}, { max_tokens: null }]) {
      const body = (await (await complete(url, { ...extra })).json()) as any;
      expect(body.usage.completion_tokens).toBe(16);
      expect(body.choices[0].finish_reason).toBe("length");
    }
    // Chat has no such default: the answer runs to its end.
    expect(((await (await chat(url, {})).json()) as any).choices[0].finish_reason).toBe("stop");
  });
});

describe("sampling", () => {
  const textOf = async (res: Response) => ((await res.json()) as any).choices[0].message.content as string;

  it("is deterministic at temperature 0 and with a seed, and varies otherwise", async () => {
    const { url } = newSim();
    expect(await textOf(await chat(url, { temperature: 0 }))).toBe(await textOf(await chat(url, { temperature: 0 })));
    expect(await textOf(await chat(url, { temperature: 0.7, seed: 7 }))).toBe(await textOf(await chat(url, { temperature: 0.7, seed: 7 })));
    expect(await textOf(await chat(url, { temperature: 0.7 }))).not.toBe(await textOf(await chat(url, { temperature: 0.7 })));
  });

  it("ignores unknown fields, as vLLM does", async () => {
    const { url } = newSim();
    const res = await chat(url, { max_tokens: 2, frobnicate: true, messages: [{ role: "user", content: [{ type: "text", text: question }], extra: 1 }] });
    expect(res.status).toBe(200);
  });
});

describe("server endpoints", () => {
  it("answers /health with an empty 200", async () => {
    const res = await fetch(`${newSim().url}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it("lists the served models with max_model_len", async () => {
    const body = (await (await fetch(`${newSim().url}/v1/models`)).json()) as any;
    expect(body.object).toBe("list");
    expect(body.data.map((m: any) => m.id)).toEqual(["GAIR/LIMO", "GAIR/LIMO-v2"]);
    expect(body.data[0]).toMatchObject({ object: "model", owned_by: "vllm", root: "GAIR/LIMO", parent: null, max_model_len: 32768 });
    expect(body.data[0].permission[0]).toMatchObject({ object: "model_permission" });
  });

  it("exposes vLLM's Prometheus gauges", async () => {
    const res = await fetch(`${newSim().url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const name of ["vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"]) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} gauge`);
      expect(text).toMatch(new RegExp(`^${name}\\{[^}]*model_name="GAIR/LIMO"[^}]*\\} 0\\.0$`, "m"));
    }
  });
});
