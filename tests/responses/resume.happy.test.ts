/**
 * A Responses stream is as durable as a chat stream: a client that drops it
 * can resume from the last sequence number it has while the answer is still
 * being generated, and gets every event exactly once; a client that leaves
 * for good stops the GPU work after the reconnect grace. `background` with
 * `stream` streams a response that outlives its connection; a cold start
 * keeps the stream alive with comments, as on chat.
 */
import { describe, expect, it } from "vitest";
import { pollUntil } from "../helpers/sim";
import { readEvents } from "../helpers/sse";
import { limitedAccount } from "../helpers/limits";
import { newClient, responseEvents, responsesClient, type StreamEvent } from "./client";

/** Reads `count` events of a Responses stream, then drops the connection. */
async function readSome(res: Response, count: number): Promise<StreamEvent[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const events: StreamEvent[] = [];
  while (events.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").find((l) => l.startsWith("data: "));
      if (data) events.push(JSON.parse(data.slice(6)) as StreamEvent);
    }
  }
  await reader.cancel();
  return events;
}

describe("resuming a Responses stream", () => {
  it("resumes a dropped stream mid-generation: every event once, in order", async () => {
    const client = await newClient();
    await client.account.sim.configure({ tokens_per_second: 100 });
    const first = await readSome(await client.create({ input: "List the primes below 200.", stream: true, max_output_tokens: 300 }), 8);
    const id = first[0]!.response!.id;
    const last = first.at(-1)!.sequence_number;
    const rest = (await responseEvents(await client.get(`/v1/responses/${id}?stream=true&starting_after=${last}`))).events;
    const all = [...first, ...rest];
    expect(all.map((e) => e.sequence_number)).toEqual(all.map((_, i) => i));
    expect(all.at(-1)!.type).toMatch(/^response\.(completed|incomplete)$/);
    const text = all.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("");
    expect(all.at(-1)!.response!.output_text).toBe(text);
    // The one request is billed once, for the whole answer it was given across both connections.
    const [record] = await client.account.settledLedger(1);
    expect(record).toMatchObject({ endpoint: "responses", completion_tokens: all.at(-1)!.response!.usage!.output_tokens });
  });

  it("stops the backend after the grace when the client leaves for good", async () => {
    const client = responsesClient(await limitedAccount(), { GENERATION_GRACE_MS: "200" });
    const { sim } = client.account;
    await sim.configure({ tokens_per_second: 20 });
    await readSome(await client.create({ input: "Count slowly.", stream: true, max_output_tokens: 2000 }), 6);
    const stats = await sim.waitForIdle();
    expect(stats.aborted_total).toBe(1);
    expect(stats.completed_total).toBe(0);
    const [record] = await client.account.settledLedger(1);
    expect(record).toMatchObject({ endpoint: "responses", status: "client_disconnected" });
  });

  it("streams a background response that runs on after its connection drops", async () => {
    const client = await newClient();
    await client.account.sim.configure({ tokens_per_second: 200 });
    const first = await readSome(await client.create({ input: "What is 99 + 1?", stream: true, background: true }), 4);
    expect(first[0]).toMatchObject({ type: "response.created", response: { status: "queued", background: true } });
    const id = first[0]!.response!.id;
    const done = await pollUntil(async () => (await (await client.get(`/v1/responses/${id}`)).json()) as { status: string }, (r) => r.status === "completed", 10_000);
    expect(done.status).toBe("completed");
    const stats = await client.account.sim.stats();
    expect(stats.completed_total).toBe(1);
    expect(stats.aborted_total).toBe(0);
  });
});

describe("a Responses stream through a cold start", () => {
  it("gets the keep-alive comments while the backend boots, after response.created, then the answer", async () => {
    const client = responsesClient(await limitedAccount(), { COLD_START_BUDGET_MS: "10000", KEEPALIVE_INTERVAL_MS: "200" });
    await client.account.sim.configure({ cold_start_ms: 1_000 });
    const res = await client.create({ input: "What is 1+1?", stream: true, max_output_tokens: 8 });
    expect(res.status).toBe(200);
    const read = await readEvents(res);
    const keepAlive = read.raw.findIndex((e) => e.startsWith(": waiting for a GPU backend to start"));
    expect(keepAlive).toBeGreaterThan(0);
    expect(read.raw.findIndex((e) => e.startsWith("event: response.created"))).toBeLessThan(keepAlive);
    expect(read.raw.findIndex((e) => e.startsWith("event: response.output_text.delta"))).toBeGreaterThan(keepAlive);
    expect(read.raw.at(-1)).toMatch(/^event: response\.(completed|incomplete)/);
  });
});
