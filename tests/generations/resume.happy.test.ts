import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SSE_DONE } from "../../shared/sse";
import { generationObject, parseGenerationId } from "../../worker/generations/generation-rpc";
import { BATCH_MAX_EVENTS, GenerationStorage } from "../../worker/generations/generation-storage";
import { limitedAccount, type LimitedAccount } from "../helpers/limits";
import { readEvents } from "../helpers/sse";
import { generationsClient } from "./client";

const ASK = { messages: [{ role: "user", content: "Sum the first ten odd numbers." }], max_tokens: 80, stream: true };

/** Reads a stream's events as framed (`id: n\ndata: …`), stopping after `limit` of them. */
async function framed(res: Response, limit = Infinity): Promise<string[]> {
  return (await readEvents(res, limit)).raw;
}

const idOf = (event: string) => Number(/^id: (\d+)$/m.exec(event)![1]);

async function resume(acct: LimitedAccount, id: string, lastEventId?: number): Promise<Response> {
  const headers: Record<string, string> = lastEventId === undefined ? {} : { "last-event-id": String(lastEventId) };
  return generationsClient(acct).get(`/v1/generations/${id}/stream`, headers);
}

describe("resumable streams", () => {
  it("stores every event of a finished run, in order, for replays after the object restarts", async () => {
    const acct = await limitedAccount();
    // Past one stored batch (BATCH_MAX_EVENTS), so the batches must join up.
    await acct.sim.configure({ min_tokens: BATCH_MAX_EVENTS + 100 });
    const res = await acct.chat({ ...ASK, max_tokens: BATCH_MAX_EVENTS + 100, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    const id = res.headers.get("x-generation-id")!;
    const events = await framed(res);
    const { name, run } = parseGenerationId(id)!;
    const stored = await runInDurableObject(generationObject(env, name), (_, state) => new GenerationStorage(state.storage).events(run));
    // What a replay after a restart would serve: the same events, ids being their positions.
    expect(stored.events.map((event, i) => `id: ${i + 1}\n${event}`)).toEqual(events);
    // With the tokens each event carried: a restarted object bills a partial replay as the live one did.
    expect(stored.tokens).toHaveLength(stored.events.length);
    const [record] = await acct.settledLedger(1);
    expect(stored.tokens.reduce((a, b) => a + b, 0)).toBe(record!.completion_tokens);
  });

  it("numbers every event and names the generation", async () => {
    const acct = await limitedAccount();
    const res = await acct.chat({ ...ASK, max_tokens: 10, stream_options: { include_usage: true } });
    expect(res.headers.get("x-generation-id")).toMatch(/^gen_[0-9a-f]+_\d+$/);
    const events = await framed(res);
    expect(events.map(idOf)).toEqual(events.map((_, i) => i + 1));
    // Without the usage chunk its id is skipped: ids stay the generation's, so a resume works whoever asks.
    const plain = await framed(await acct.chat({ ...ASK, max_tokens: 10 }));
    const ids = plain.map(idOf);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(ids.at(-1)).toBe(events.length);
    expect(events.at(-1)).toMatch(/data: \[DONE\]$/);
    await acct.settledLedger(2);
  });

  it("joins a stream cut at a random event with its resume into exactly the whole answer, one backend request", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ tokens_per_second: 500 });
    const res = await generationsClient(acct).chat(ASK);
    const id = res.headers.get("x-generation-id")!;
    const cut = 1 + Math.floor(Math.random() * 60);
    const head = await framed(res, cut);
    expect(head).toHaveLength(cut);
    const tail = await framed(await resume(acct, id, idOf(head.at(-1)!)));
    const whole = await framed(await resume(acct, id));
    // The cut lands before the usage chunk (the last before [DONE]), so the pieces are the whole.
    expect([...head, ...tail]).toEqual(whole);
    expect(whole.at(-1)).toBe(`id: ${whole.length}\ndata: ${SSE_DONE}`);
    expect((await acct.sim.stats()).requests_total).toBe(1);
    // The request that caused the run is billed once.
    expect(await acct.settledLedger(1)).toHaveLength(1);
  });

  it("cuts after 30 chunks and resumes from the last event id, as the check does", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ tokens_per_second: 200 });
    const res = await generationsClient(acct).chat({ ...ASK, temperature: 0, stream_options: { include_usage: true } });
    const id = res.headers.get("x-generation-id")!;
    const head = await framed(res, 30);
    const tail = await framed(await resume(acct, id, idOf(head.at(-1)!)));
    const whole = await framed(await resume(acct, id));
    expect([...head, ...tail]).toEqual(whole);
    expect((await acct.sim.stats()).requests_total).toBe(1);
    await acct.settledLedger(1);
  });

  it("hides a generation from other accounts and unknown ids", async () => {
    const acct = await limitedAccount();
    const res = await acct.chat({ ...ASK, max_tokens: 5 });
    const id = res.headers.get("x-generation-id")!;
    await res.text();
    const other = await acct.a.createAccount("Other");
    const { key } = await acct.a.createKey(other.id);
    expect((await acct.a.withKey(key, `/v1/generations/${id}`)).status).toBe(404);
    expect((await acct.a.withKey(key, `/v1/generations/${id}/stream`)).status).toBe(404);
    expect((await acct.a.withKey(key, `/v1/generations/${id}/cancel`, { method: "POST" })).status).toBe(404);
    expect((await acct.a.withKey(acct.key, `/v1/generations/gen_nope_1`)).status).toBe(404);
    expect((await acct.a.withKey(acct.key, `/v1/generations/${id}`)).status).toBe(200);
  });
});
