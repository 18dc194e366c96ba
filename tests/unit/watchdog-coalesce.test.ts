/**
 * Read coalescing (routing/watchdog): a backend body read through a watched
 * reader with `coalesceMs` gives every byte exactly once and in order, takes
 * many events per read once it coalesces, and still stops the backend when it
 * is cancelled. Against a real simulator instance over loopback, so the body
 * is a native fetch body as in production.
 */
import { describe, expect, it } from "vitest";
import { watchReads, type StreamEnd, type WatchedReader } from "../../worker/routing/watchdog";
import { newSim, pollUntil, type SimHandle } from "../helpers/sim";

const TOKENS = 600;

/** A streamed chat request to the simulator, watched as the router watches it. */
async function watched(
  sim: SimHandle,
  options: { maxTokens: number; coalesceMs?: number; idleMs?: number },
): Promise<{ reader: WatchedReader; timedOut: () => boolean; ends: StreamEnd[]; abort: AbortController }> {
  const abort = new AbortController();
  const res = await fetch(`${sim.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "GAIR/LIMO",
      messages: [{ role: "user", content: "What is 2+2?" }],
      max_tokens: options.maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    }),
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  const ends: StreamEnd[] = [];
  const { reader, timedOut } = watchReads(res.body!, {
    firstByteMs: 10_000,
    idleMs: options.idleMs ?? 10_000,
    coalesceMs: options.coalesceMs,
    abort: () => abort.abort(),
    onEnd: (end) => ends.push(end),
  });
  return { reader, timedOut, ends, abort };
}

async function open(sim: SimHandle, coalesceMs: number) {
  await sim.configure({ min_tokens: TOKENS });
  return watched(sim, { maxTokens: TOKENS, coalesceMs });
}

async function readAll(reader: WatchedReader): Promise<{ text: string; reads: number }> {
  const decoder = new TextDecoder();
  let text = "";
  let reads = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    reads++;
    text += decoder.decode(value, { stream: true });
  }
  return { text: text + decoder.decode(), reads };
}

function contentOf(text: string): string {
  const events = text.split("\n\n").filter(Boolean);
  expect(events.at(-1)).toBe("data: [DONE]");
  return events
    .slice(0, -1)
    .map((e) => JSON.parse(e.slice("data: ".length)) as { choices: { delta?: { content?: string } }[] })
    .map((chunk) => chunk.choices[0]?.delta?.content ?? "")
    .join("");
}

describe("coalesced backend reads", () => {
  it("delivers the same bytes as plain reads, in far fewer reads", async () => {
    const plain = await open(newSim(), 0);
    const coalesced = await open(newSim(), 4);
    const a = await readAll(plain.reader);
    const b = await readAll(coalesced.reader);
    // Same answer (temperature 0), every event whole and in order, usage included.
    expect(contentOf(b.text)).toBe(contentOf(a.text));
    expect(b.text.match(/"completion_tokens":(\d+)/)?.[1]).toBe(String(TOKENS));
    expect(b.text.split("\n\n").filter(Boolean).length).toBe(a.text.split("\n\n").filter(Boolean).length);
    // A plain read is one HTTP chunk (one event); coalesced reads take many at a time.
    expect(a.reads).toBeGreaterThanOrEqual(TOKENS);
    expect(b.reads).toBeLessThan(a.reads / 2);
    expect(plain.ends).toEqual(["done"]);
    expect(coalesced.ends).toEqual(["done"]);
  });

  it("stops the backend when cancelled after coalescing began", async () => {
    const sim = newSim();
    await sim.configure({ tokens_per_second: 400 });
    const { reader, ends } = await open(sim, 4);
    for (let i = 0; i < 40; i++) expect((await reader.read()).done).toBe(false);
    reader.cancel("cancelled");
    expect(ends).toEqual(["cancelled"]);
    const stats = await sim.waitForIdle();
    expect(stats.aborted_total).toBe(1);
  });
});

describe("text(): the whole body, collected natively", () => {
  // 10 tokens end within the plain reads; TOKENS go on past them into the tee.
  it.each([10, TOKENS])("gives the same bytes as plain reads for a %i-token answer", async (tokens) => {
    const sim = newSim();
    await sim.configure({ min_tokens: tokens });
    const a = await watched(sim, { maxTokens: tokens });
    const b = await watched(sim, { maxTokens: tokens });
    const plain = await readAll(a.reader);
    const text = await b.reader.text();
    expect(text.replace(/"id":"[^"]*"|"created":\d+/g, "")).toBe(plain.text.replace(/"id":"[^"]*"|"created":\d+/g, ""));
    expect(contentOf(text)).toBe(contentOf(plain.text));
    expect(b.ends).toEqual(["done"]);
    expect((await sim.waitForIdle()).aborted_total).toBe(0);
  });

  it("decodes a character split across the plain reads and the tee", async () => {
    // 41 chunks, each boundary inside an "é" (0xC3 | 0xA9): the 32 plain reads, then the teed rest.
    const letters = Array.from({ length: 41 }, (_, i) => String.fromCharCode(97 + (i % 26)));
    const chunks = letters.map((letter, i) => {
      const bytes = [...(i > 0 ? [0xa9] : []), ...new TextEncoder().encode(letter), ...(i < 40 ? [0xc3] : [])];
      return new Uint8Array(bytes);
    });
    const body = new ReadableStream({
      type: "bytes", // as a fetch body is: the tee's watch branch is read BYOB
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const ends: StreamEnd[] = [];
    const { reader } = watchReads(body, { firstByteMs: 10_000, idleMs: 10_000, abort: () => {}, onEnd: (end) => ends.push(end) });
    expect(await reader.text()).toBe(letters.join("é"));
    expect(ends).toEqual(["done"]);
  });

  it("rejects when the backend goes silent past the idle limit", async () => {
    const sim = newSim();
    await sim.configure({ tokens_per_second: 2 });
    const { reader, timedOut, ends } = await watched(sim, { maxTokens: 20, idleMs: 200 });
    const started = Date.now();
    await expect(reader.text()).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(timedOut()).toBe(true);
    expect(ends).toEqual(["timeout"]);
    expect((await sim.waitForIdle()).aborted_total).toBe(1);
  });

  it("rejects, and stops the backend, when the caller aborts", async () => {
    const sim = newSim();
    await sim.configure({ tokens_per_second: 20 });
    const { reader, abort } = await watched(sim, { maxTokens: 200 });
    const text = reader.text();
    await pollUntil(() => sim.stats(), (s) => s.tokens_generated_total > 3);
    abort.abort();
    await expect(text).rejects.toThrow();
    expect(reader.firstByteAt()).not.toBeNull();
    expect((await sim.waitForIdle()).aborted_total).toBe(1);
  });
});
