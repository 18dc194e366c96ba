/**
 * @module sim/stream-interval.test
 * Two vLLM 0.21 streaming behaviours the Worker relies on:
 * - `--stream-interval N` (the `stream_interval` knob): per choice, the
 *   first token at once, then one chunk per N tokens, then the rest with the
 *   finish (vllm/v1/engine/output_processor.py, RequestState.make_request_output);
 *   one chunk per output, its text the tokens' concatenation and its logprobs
 *   one entry per token; tokens held back when the stream breaks are never sent;
 * - `stream_options.continuous_usage_stats` (with `include_usage`): usage
 *   on every chunk, counting that chunk's choice's tokens sent so far.
 * Both endpoints, both engines (the simple one over HTTP, the modelled one
 * on a virtual clock).
 */
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../gpu/sim/fleet/clock";
import { createSimulator, type SimConfigPatch } from "../../gpu/sim/simulator";
import { newSim, readSse, readSseData } from "../helpers/sim";
import { untilSettled } from "../helpers/virtual-clock";

const question = "What is the sum of the first ten prime numbers?";
const messages = [{ role: "user", content: question }];
/** ChatML: primer 3 + per message 4 + ceil(bytes / 4); a completion prompt is ceil(bytes / 4). */
const CHAT_PROMPT_TOKENS = 3 + 4 + Math.ceil(question.length / 4);
const COMPLETION_PROMPT_TOKENS = Math.ceil(question.length / 4);
/** Longer than any natural answer (80 to 400 tokens), so max_tokens alone sets the length. */
const LONG = 1000;

async function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}
const chat = (url: string, body: Record<string, unknown>) => post(url, "/v1/chat/completions", { model: "GAIR/LIMO", messages, ...body });
const complete = (url: string, body: Record<string, unknown>) => post(url, "/v1/completions", { model: "GAIR/LIMO", prompt: question, ...body });

type Chunk = { choices: any[]; usage?: { prompt_tokens: number; total_tokens: number; completion_tokens: number }; system_fingerprint?: string; error?: unknown };
const parse = (data: string[]) => data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as Chunk);
const isRole = (c: Chunk) => c.choices[0]?.delta?.role !== undefined;
/** A choice's chunks after chat's role chunk, in order. */
const chunksOf = (chunks: Chunk[], index = 0) => chunks.filter((c) => c.choices.length === 1 && c.choices[0].index === index && !isRole(c));
const textOf = (c: Chunk): string => c.choices[0].delta?.content ?? c.choices[0].text;
/** Tokens a chunk carries, read from its logprobs (one entry per token; null for a bare end of sequence). */
const tokenCount = (c: Chunk): number => {
  const lp = c.choices[0].logprobs;
  if (lp === null) return 0;
  return Array.isArray(lp.content) ? lp.content.length : lp.tokens.length;
};

/** vLLM's outputs for a choice of `tokens` tokens at interval `n`: 1, then n at a time, then what is left. */
function cadence(tokens: number, n: number): number[] {
  if (tokens === 0) return [];
  const sizes = [1];
  let left = tokens - 1;
  for (; left >= n; left -= n) sizes.push(n);
  if (left > 0) sizes.push(left);
  return sizes;
}

/** Groups `tokens` by `sizes` and joins each group: the text each chunk must carry. */
function grouped(tokens: readonly string[], sizes: readonly number[]): string[] {
  const out: string[] = [];
  let at = 0;
  for (const s of sizes) {
    out.push(tokens.slice(at, at + s).join(""));
    at += s;
  }
  return out;
}

describe("stream_interval: chat", () => {
  it("sends 1, 8, 8, then the last 3 tokens with the finish for a 20-token choice, texts and logprobs grouped alike", async () => {
    const { url, configure } = newSim();
    await configure({ min_tokens: LONG });
    const body = { stream: true, temperature: 0, max_tokens: 20, logprobs: true, top_logprobs: 2 };
    // Interval 1 (vLLM's default): one chunk per token, the reference split.
    const perToken = chunksOf(parse(await readSseData(await chat(url, body))));
    expect(perToken.map(tokenCount)).toEqual(Array(20).fill(1));
    const tokens = perToken.map(textOf);

    await configure({ stream_interval: 8 });
    const chunks = parse(await readSseData(await chat(url, body)));
    expect(chunks[0]!.choices[0].delta).toEqual({ role: "assistant", content: "" });
    const mine = chunksOf(chunks);
    expect(mine.map(tokenCount)).toEqual([1, 8, 8, 3]);
    expect(mine.map(textOf)).toEqual(grouped(tokens, [1, 8, 8, 3]));
    expect(mine.map((c) => c.choices[0].finish_reason)).toEqual([null, null, null, "length"]);
    // The same logprob entries as one per chunk, in the same order: only the grouping changed.
    expect(mine.flatMap((c) => c.choices[0].logprobs.content)).toEqual(perToken.flatMap((c) => c.choices[0].logprobs.content));
    for (const c of mine) expect(c.choices[0].logprobs.content.map((e: any) => e.token).join("")).toBe(textOf(c));
    // Without include_usage the finishing chunk carries the fingerprint, and nothing else does.
    expect(chunks.filter((c) => "system_fingerprint" in c)).toEqual([mine.at(-1)]);
  });

  it("puts the finish on the chunk that fills the interval when the last token fills it (17 tokens: 1, 8, 8)", async () => {
    const { url, configure } = newSim();
    await configure({ min_tokens: LONG, stream_interval: 8 });
    const mine = chunksOf(parse(await readSseData(await chat(url, { stream: true, max_tokens: 17, logprobs: true }))));
    expect(mine.map(tokenCount)).toEqual([1, 8, 8]);
    expect(mine.at(-1)!.choices[0]).toMatchObject({ finish_reason: "length", stop_reason: null });
  });

  it("ends an end-of-sequence answer with what waits and the finish in one chunk, or an empty one when nothing waits; the text is the non-streamed answer", async () => {
    const { url, configure } = newSim();
    const whole = (await (await chat(url, { temperature: 0, logprobs: true })).json()) as any;
    const answer: string = whole.choices[0].message.content;
    const C: number = whole.usage.completion_tokens;
    expect(whole.choices[0].finish_reason).toBe("stop");
    const tokens: string[] = whole.choices[0].logprobs.content.map((e: any) => e.token);
    expect(tokens).toHaveLength(C);

    const sizesAt = new Map<number, number[]>();
    for (const interval of [8, C, C - 1]) {
      await configure({ stream_interval: interval });
      const mine = chunksOf(parse(await readSseData(await chat(url, { stream: true, temperature: 0, logprobs: true }))));
      sizesAt.set(interval, mine.map(tokenCount));
      const sizes = cadence(C, interval);
      // Nothing waits when the last group filled the interval: the EOS comes alone, with its empty text.
      const eosAlone = (C - 1) % interval === 0;
      expect(mine.map(tokenCount), `interval ${interval}`).toEqual(eosAlone ? [...sizes, 0] : sizes);
      expect(mine.map(textOf)).toEqual(eosAlone ? [...grouped(tokens, sizes), ""] : grouped(tokens, sizes));
      expect(mine.map(textOf).join("")).toBe(answer);
      expect(mine.map((c) => c.choices[0].finish_reason)).toEqual([...Array(mine.length - 1).fill(null), "stop"]);
      expect(mine.at(-1)!.choices[0].stop_reason).toBeNull();
    }
    // Interval C: the first token, then all the rest with the EOS in one chunk.
    expect(sizesAt.get(C)).toEqual([1, C - 1]);
    // Interval C - 1: the rest fills the interval and goes at once; the EOS follows alone.
    expect(sizesAt.get(C - 1)).toEqual([1, C - 1, 0]);
  });

  it("gives every choice of n its own cadence, interleaved as the engine steps them", async () => {
    const { url, configure } = newSim();
    await configure({ min_tokens: LONG, stream_interval: 8 });
    const chunks = parse(await readSseData(await chat(url, { stream: true, n: 2, max_tokens: 20, logprobs: true })));
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    const order = chunks.map((c) => [c.choices[0].index, isRole(c) ? "role" : tokenCount(c)]);
    expect(order).toEqual([
      [0, "role"],
      [1, "role"],
      [0, 1],
      [1, 1],
      [0, 8],
      [1, 8],
      [0, 8],
      [1, 8],
      [0, 3],
      [1, 3],
    ]);

    // Choices of different lengths (sampled, seeded): each its own 1, 8, ..., rest.
    await configure({ min_tokens: null });
    const sampled = { n: 3, temperature: 0.7, seed: 11, logprobs: true };
    const whole = (await (await chat(url, sampled)).json()) as any;
    const lengths: number[] = whole.choices.map((c: any) => c.logprobs.content.length);
    expect(new Set(lengths).size).toBeGreaterThan(1);
    const streamed = parse(await readSseData(await chat(url, { ...sampled, stream: true })));
    for (const [i, C] of lengths.entries()) {
      const mine = chunksOf(streamed, i);
      const sizes = cadence(C, 8);
      expect(mine.map(tokenCount), `choice ${i}`).toEqual((C - 1) % 8 === 0 ? [...sizes, 0] : sizes);
      expect(mine.map(textOf).join("")).toBe(whole.choices[i].message.content);
    }
  });

  it("stops at a stop string in the chunk of the last kept tokens", async () => {
    const { url, configure } = newSim();
    const full: string = ((await (await chat(url, { temperature: 0 })).json()) as any).choices[0].message.content;
    const kept = full.slice(0, full.indexOf("Step 2:"));
    await configure({ stream_interval: 8 });
    const mine = chunksOf(parse(await readSseData(await chat(url, { stream: true, temperature: 0, stop: ["Step 2:"], logprobs: true }))));
    const C = mine.reduce((sum, c) => sum + tokenCount(c), 0);
    expect(C).toBeGreaterThan(9);
    expect(mine.map(tokenCount)).toEqual(cadence(C, 8));
    expect(mine.map(textOf).join("")).toBe(kept);
    expect(mine.at(-1)!.choices[0]).toMatchObject({ finish_reason: "stop", stop_reason: "Step 2:" });
  });

  it("never sends the tokens it held back when the connection drops or the engine fails", async () => {
    const { url, configure, waitForIdle } = newSim();
    // 12 tokens generated: 1 and 8 sent, 3 waiting when the 13th would come.
    await configure({ min_tokens: LONG, stream_interval: 8, drop_after_tokens: 12 });
    const dropped = await readSse(await chat(url, { stream: true, max_tokens: 20, logprobs: true }));
    expect(dropped.error).not.toBeNull();
    expect(dropped.data).not.toContain("[DONE]");
    expect(chunksOf(parse(dropped.data)).map(tokenCount)).toEqual([1, 8]);
    expect(await waitForIdle()).toMatchObject({ errored_total: 1, tokens_generated_total: 12 });

    await configure({ drop_after_tokens: null, error_after_tokens: 12 });
    const data = await readSseData(await chat(url, { stream: true, max_tokens: 20, logprobs: true }));
    expect(data.at(-1)).toBe("[DONE]");
    expect(JSON.parse(data.at(-2)!)).toMatchObject({ error: { type: "InternalServerError", code: 500 } });
    expect(chunksOf(parse(data.slice(0, -2))).map(tokenCount)).toEqual([1, 8]);

    // At interval 1 the same failure sends all 12.
    await configure({ stream_interval: null });
    const perToken = await readSseData(await chat(url, { stream: true, max_tokens: 20, logprobs: true }));
    expect(chunksOf(parse(perToken.slice(0, -2))).map(tokenCount)).toEqual(Array(12).fill(1));
  });

  it("is 1 by default and after a reset to null, and takes only whole numbers from 1", async () => {
    const { url, configure } = newSim();
    expect(((await (await fetch(`${url}/sim/config`)).json()) as any).stream_interval).toBe(1);
    await configure({ min_tokens: LONG, stream_interval: 4 });
    expect(chunksOf(parse(await readSseData(await chat(url, { stream: true, max_tokens: 10, logprobs: true })))).map(tokenCount)).toEqual([1, 4, 4, 1]);
    await configure({ stream_interval: null });
    expect(chunksOf(parse(await readSseData(await chat(url, { stream: true, max_tokens: 10, logprobs: true })))).map(tokenCount)).toEqual(Array(10).fill(1));
    for (const bad of [0, -8, 1.5, "8"]) {
      const res = await fetch(`${url}/sim/config`, { method: "POST", body: JSON.stringify({ stream_interval: bad }) });
      expect(res.status, String(bad)).toBe(400);
    }
  });

  it("leaves non-streamed answers alone", async () => {
    const { url, configure } = newSim();
    const before = await (await chat(url, { temperature: 0, n: 2, logprobs: true })).json();
    await configure({ stream_interval: 8 });
    const after = await (await chat(url, { temperature: 0, n: 2, logprobs: true })).json();
    expect({ ...(after as any), id: "", created: 0 }).toEqual({ ...(before as any), id: "", created: 0 });
  });
});

describe("stream_interval: completions", () => {
  it("sends one text_completion chunk per output, its logprobs arrays one entry per token, text_offset running on", async () => {
    const { url, configure } = newSim();
    await configure({ min_tokens: LONG });
    const whole = (await (await complete(url, { max_tokens: 20, temperature: 0, logprobs: 1 })).json()) as any;
    const lp = whole.choices[0].logprobs;
    expect(lp.tokens).toHaveLength(20);

    await configure({ stream_interval: 8 });
    const data = await readSseData(await complete(url, { stream: true, max_tokens: 20, temperature: 0, logprobs: 1 }));
    const mine = chunksOf(parse(data));
    expect(mine.map(tokenCount)).toEqual([1, 8, 8, 3]);
    expect(mine.map(textOf)).toEqual(grouped(lp.tokens, [1, 8, 8, 3]));
    expect(mine.map((c) => c.choices[0].finish_reason)).toEqual([null, null, null, "length"]);
    // Concatenated, the chunks' arrays are the non-streamed response's, text_offset included.
    for (const key of ["text_offset", "token_logprobs", "tokens", "top_logprobs"]) {
      expect(mine.flatMap((c) => c.choices[0].logprobs[key]), key).toEqual(lp[key]);
    }
    expect(mine[1]!.choices[0].logprobs.text_offset[0]).toBe(textOf(mine[0]!).length);
    // Shape: every chunk still sets stop_reason, prompt_token_ids and token_ids.
    expect(Object.keys(mine[1]!.choices[0])).toEqual(["index", "text", "logprobs", "finish_reason", "stop_reason", "prompt_token_ids", "token_ids"]);
  });

  it("gives each choice of n its own cadence", async () => {
    const { url, configure } = newSim();
    await configure({ min_tokens: LONG, stream_interval: 8 });
    const chunks = parse(await readSseData(await complete(url, { stream: true, n: 2, max_tokens: 12, logprobs: 0 })));
    expect(chunks.map((c) => [c.choices[0].index, tokenCount(c)])).toEqual([
      [0, 1],
      [1, 1],
      [0, 8],
      [1, 8],
      [0, 3],
      [1, 3],
    ]);
  });
});

describe("continuous_usage_stats", () => {
  const both = { include_usage: true, continuous_usage_stats: true };
  const usage = (P: number, C: number) => ({ prompt_tokens: P, total_tokens: P + C, completion_tokens: C });

  it("puts usage on every chat chunk, role chunks included: that choice's tokens sent so far", async () => {
    const { url, configure } = newSim();
    await configure({ min_tokens: LONG, stream_interval: 8 });
    const data = await readSseData(await chat(url, { stream: true, n: 2, max_tokens: 20, stream_options: both }));
    const chunks = parse(data);
    const P = CHAT_PROMPT_TOKENS;
    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual(usage(P, 40));
    for (const i of [0, 1]) {
      const role = chunks.find((c) => isRole(c) && c.choices[0].index === i)!;
      expect(role.usage).toEqual(usage(P, 0));
      expect(chunksOf(chunks, i).map((c) => c.usage)).toEqual([1, 9, 17, 20].map((C) => usage(P, C)));
    }
    expect(chunks.every((c) => c.usage !== undefined)).toBe(true);

    // Exact bytes: usage right after choices; the role chunk's prompt fields after it; no fingerprint but on the usage chunk.
    const { id, created } = JSON.parse(data[0]!);
    const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":"GAIR/LIMO","choices":`;
    const u = (C: number) => `"usage":{"prompt_tokens":${P},"total_tokens":${P + C},"completion_tokens":${C}}`;
    expect(data[0]).toBe(`${head}[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],${u(0)},"prompt_token_ids":null,"prompt_text":null}`);
    const second = chunksOf(chunks, 0)[1]!;
    expect(data[chunks.indexOf(second)]).toBe(
      `${head}[{"index":0,"delta":{"content":${JSON.stringify(textOf(second))}},"logprobs":null,"finish_reason":null,"token_ids":null}],${u(9)}}`,
    );
    const last = chunksOf(chunks, 1).at(-1)!;
    expect(data[chunks.indexOf(last)]).toBe(
      `${head}[{"index":1,"delta":{"content":${JSON.stringify(textOf(last))}},"logprobs":null,"finish_reason":"length","stop_reason":null,"token_ids":null}],${u(20)}}`,
    );
    expect(chunks.filter((c) => "system_fingerprint" in c)).toEqual([usageChunk]);
  });

  it("counts every token at interval 1, and the end of sequence's chunk adds none", async () => {
    const { url } = newSim();
    const chunks = parse(await readSseData(await chat(url, { stream: true, temperature: 0, stream_options: both })));
    const mine = chunksOf(chunks);
    const C = chunks.at(-1)!.usage!.completion_tokens;
    expect(mine).toHaveLength(C + 1);
    expect(mine.map((c) => c.usage!.completion_tokens)).toEqual([...Array.from({ length: C }, (_, k) => k + 1), C]);
    expect(textOf(mine.at(-1)!)).toBe("");
  });

  it("puts usage on every completions chunk, per choice", async () => {
    const { url, configure } = newSim();
    await configure({ min_tokens: LONG, stream_interval: 8 });
    const data = await readSseData(await complete(url, { stream: true, n: 2, max_tokens: 12, stream_options: both }));
    const chunks = parse(data);
    const P = COMPLETION_PROMPT_TOKENS;
    expect(chunks.at(-1)!).toMatchObject({ choices: [], usage: usage(P, 24) });
    for (const i of [0, 1]) expect(chunksOf(chunks, i).map((c) => c.usage)).toEqual([1, 9, 12].map((C) => usage(P, C)));
    const { id, created } = JSON.parse(data[0]!);
    const first = chunks[0]!;
    expect(data[0]).toBe(
      `{"id":"${id}","object":"text_completion","created":${created},"model":"GAIR/LIMO","choices":[{"index":0,"text":${JSON.stringify(textOf(first))},"logprobs":null,"finish_reason":null,"stop_reason":null,"prompt_token_ids":null,"token_ids":null}],"usage":{"prompt_tokens":${P},"total_tokens":${P + 1},"completion_tokens":1}}`,
    );
  });

  it("needs include_usage: without it no chunk has usage, and the finish carries the fingerprint", async () => {
    const { url } = newSim();
    for (const stream_options of [{ continuous_usage_stats: true }, { include_usage: false, continuous_usage_stats: true }]) {
      for (const send of [chat, complete]) {
        const chunks = parse(await readSseData(await send(url, { stream: true, max_tokens: 5, stream_options })));
        expect(chunks.some((c) => "usage" in c)).toBe(false);
        expect(chunks.at(-1)!.system_fingerprint).toMatch(/^vllm-/);
      }
    }
    // include_usage alone: only the trailing usage chunk.
    const chunks = parse(await readSseData(await chat(url, { stream: true, max_tokens: 5, stream_options: { include_usage: true } })));
    expect(chunks.filter((c) => "usage" in c)).toEqual([chunks.at(-1)]);
  });
});

describe("stream_interval on the modelled engine (a warm container, virtual clock)", () => {
  const BASE = "http://sim.test";

  /** Streams one chat request on a fresh warm deployment; each content chunk with the simulated ms it arrived at. */
  async function timedStream(patch: SimConfigPatch, body: Record<string, unknown>) {
    const clock = new VirtualClock();
    const sim = createSimulator({ fleetClock: () => clock });
    const set = await sim.fetch(new Request(`${BASE}/sim/config`, { method: "POST", body: JSON.stringify({ profile: "h200-bf16", min_containers: 1, min_tokens: LONG, ...patch }) }));
    expect(set.status).toBe(200);
    const res = await sim.fetch(
      new Request(`${BASE}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "GAIR/LIMO", messages, stream: true, temperature: 0, logprobs: true, ...body }),
      }),
    );
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const arrivals: { at: number; chunk: Chunk }[] = [];
    for (;;) {
      const { done, value } = await untilSettled(clock, reader.read());
      if (done) break;
      for (const line of decoder.decode(value).split("\n")) {
        if (!line.startsWith("data: {")) continue;
        const chunk = JSON.parse(line.slice(6)) as Chunk;
        if (chunk.choices.length === 1 && !isRole(chunk)) arrivals.push({ at: clock.now(), chunk });
      }
    }
    return arrivals;
  }

  it("sends the first token as early as at interval 1, then each chunk when its 8th token is sampled", async () => {
    const perToken = await timedStream({}, { max_tokens: 20 });
    const grouped8 = await timedStream({ stream_interval: 8 }, { max_tokens: 20 });
    expect(perToken.map((a) => tokenCount(a.chunk))).toEqual(Array(20).fill(1));
    expect(grouped8.map((a) => tokenCount(a.chunk))).toEqual([1, 8, 8, 3]);
    // Token k (1-based) is sampled at the same step either way: chunks go out at tokens 1, 9, 17 and 20.
    expect(grouped8.map((a) => a.at)).toEqual([1, 9, 17, 20].map((k) => perToken[k - 1]!.at));
    expect(grouped8[1]!.at).toBeGreaterThan(grouped8[0]!.at);
    expect(grouped8.map((a) => textOf(a.chunk)).join("")).toBe(perToken.map((a) => textOf(a.chunk)).join(""));
  });
});
