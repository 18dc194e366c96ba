/**
 * Billing when vLLM sends several tokens an event (`--stream-interval`, the
 * simulator's `stream_interval` knob, as gpu/modal_app.py deploys it): every
 * partial record counts the backend's own running count of what was relayed
 * (streams/token-counter), not events; clients never see that running count;
 * whole answers are what they were.
 */
import { describe, expect, it } from "vitest";
import { VLLM_STREAM_INTERVAL } from "../../shared/constants";
import type { ChatCompletion } from "../../shared/openai";
import { limitedAccount } from "../helpers/limits";
import { jsonChunks, readEvents } from "../helpers/sse";

const N = VLLM_STREAM_INTERVAL;

interface Chunk {
  choices: { index: number; delta: { content?: string; role?: string }; finish_reason: string | null }[];
  usage?: { completion_tokens: number } | null;
}

/** Token counts a choice's chunks carry at interval N: 1, then N each, then the rest with the finish. */
function cadence(tokens: number): number[] {
  const out = [1];
  let sent = 1;
  while (tokens - sent > N) {
    out.push(N);
    sent += N;
  }
  if (tokens > sent) out.push(tokens - sent);
  return out;
}

describe(`streams at vLLM's --stream-interval ${N}`, () => {
  it("relays a whole answer in fewer events, with usage only on the last chunk, billed exactly", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ stream_interval: N, min_tokens: 50 });
    const res = await acct.chat({ stream: true, max_tokens: 50, stream_options: { include_usage: true } });
    const chunks = jsonChunks<Chunk>(await readEvents(res));
    const content = chunks.filter((c) => c.choices.length === 1 && c.choices[0]!.delta.role === undefined);
    expect(content).toHaveLength(cadence(50).length);
    // Only the final usage chunk (choices: []) carries usage, as OpenAI's clients expect.
    expect(chunks.filter((c) => c.usage != null).map((c) => c.choices.length)).toEqual([0]);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(50);
    const [entry] = await acct.settledLedger(1);
    expect(entry).toMatchObject({ status: "ok", completion_tokens: 50 });
  });

  it("bills a client that leaves mid-stream the tokens of the events relayed: a count only the backend's running count gives", async () => {
    const acct = await limitedAccount();
    // Slow enough that the answer is still going when the reconnect grace ends.
    await acct.sim.configure({ stream_interval: N, tokens_per_second: 100 });
    const res = await acct.chat({ stream: true, max_tokens: 600 });
    // The role chunk, then 5 content chunks: 1 + 4N tokens read.
    await readEvents(res, 6);
    const [entry] = await acct.settledLedger(1);
    expect(entry).toMatchObject({ status: "client_disconnected" });
    const read = 1 + 4 * N;
    // At least what it read; the generation object may have sent a few more events before it left. Every
    // event but the first holds N tokens, so the count is 1 + kN: counting events would give k + 1.
    expect(entry!.completion_tokens).toBeGreaterThanOrEqual(read);
    expect(entry!.completion_tokens).toBeLessThanOrEqual(read + 3 * N);
    expect((entry!.completion_tokens - 1) % N).toBe(0);
    expect((await acct.sim.waitForIdle()).aborted_total).toBe(1);
  });

  it("bills a backend that fails mid-stream the tokens relayed, not the ones it had not sent yet", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ stream_interval: N, error_after_tokens: 2 * N + 4 });
    const res = await acct.chat({ stream: true, max_tokens: 200 });
    const events = await readEvents(res);
    const texts = jsonChunks<Chunk>({ ...events, data: events.data.filter((d) => d.includes('"choices"')) }).map((c) => c.choices[0]?.delta.content ?? "");
    expect(texts.join("").length).toBeGreaterThan(0);
    const [entry] = await acct.settledLedger(1);
    // Sent: 1, N, N; the 4 generated after them were still buffered when the engine failed.
    expect(entry).toMatchObject({ status: "backend_error", completion_tokens: 1 + 2 * N, prompt_tokens: 0 });
  });

  it("answers a JSON request with the whole text and vLLM's usage, as at interval 1", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ stream_interval: 1, min_tokens: 40 });
    const plain = (await (await acct.chat({ max_tokens: 40, temperature: 0, seed: 7 })).json()) as ChatCompletion;
    await acct.sim.configure({ stream_interval: N });
    const batched = (await (await acct.chat({ max_tokens: 40, temperature: 0, seed: 7, cache: { enabled: false } })).json()) as ChatCompletion;
    expect(batched.choices[0]!.message.content).toBe(plain.choices[0]!.message.content);
    expect(batched.usage).toEqual(plain.usage);
    const ledger = await acct.settledLedger(2);
    expect(ledger.map((e) => e.completion_tokens)).toEqual([40, 40]);
  });

  it("bills each choice of an n = 2 stream by its own count", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ stream_interval: N, min_tokens: 30 });
    const res = await acct.chat({ stream: true, n: 2, max_tokens: 30, stream_options: { include_usage: true } });
    const chunks = jsonChunks<Chunk>(await readEvents(res));
    for (const index of [0, 1]) {
      const mine = chunks.filter((c) => c.choices[0]?.index === index && c.choices[0].delta.role === undefined);
      expect(mine).toHaveLength(cadence(30).length);
    }
    const [entry] = await acct.settledLedger(1);
    expect(entry).toMatchObject({ status: "ok", completion_tokens: 60 });
  });
});
