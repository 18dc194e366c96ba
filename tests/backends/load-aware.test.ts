/**
 * The load-aware policy's rules (routing/load-aware), each on its own: a
 * free sequence first, the most free, remaining work estimated from each
 * lease's age, the projected KV peak, the hold and the release to the
 * backend expected to free first; the pool object serving held requests in
 * order of arrival as sequences free; the BACKENDS fields it reads.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BackendConfigSchema } from "../../shared/backends";
import { closedBreaker } from "../../worker/routing/breaker";
import { loadDeployment } from "../../worker/routing/catalogue";
import { chooseBackend } from "../../worker/routing/choose";
import { backendLoad, END_MARGIN, expectedAllStartedBy, HOLD_RECHECK_MAX_MS, HOLD_RECHECK_MIN_MS, projectedPeakKv, remainingTokens } from "../../worker/routing/load-aware";
import { poolObject, type AcquireRequest, type BackendView, type Candidate, type LeaseLoad, type RequestLoad } from "../../worker/routing/pool-rpc";
import { readSseData } from "../helpers/sim";
import { fleet } from "./setup";

/** 10 tokens a second: a lease 50 s old has produced 500 tokens of each sequence. */
const RATE = 10;
const cand = (key: string, maxSequences: number | null, kvTokens: number | null = null): Candidate => ({
  key,
  name: key,
  weight: 1,
  maxInFlight: null,
  kvTokens,
  maxSequences,
  decodeTokensPerSecond: RATE,
});
const lease = (answerTokens: number, startedAt = 0, sequences = 1, promptTokens = 0, capTokens: number | null = null): LeaseLoad => ({
  sequences,
  promptTokens,
  answerTokens,
  capTokens,
  startedAt,
  allStartedBy: startedAt,
});
const on = (...leases: LeaseLoad[]): BackendView => ({ inFlight: leases.length, leases, breaker: closedBreaker(), health: null });
const ask = (answerTokens = 1000, sequences = 1, promptTokens = 0): RequestLoad => ({
  sequences,
  promptTokens,
  answerTokens,
  capTokens: null,
  kvTokens: promptTokens + sequences * answerTokens,
});
const pick = (c: Candidate[], views: Record<string, BackendView>, load: RequestLoad, now = 0, overflow = false) =>
  chooseBackend(c, (k) => views[k] ?? on(), now, () => 0.5, { policy: "load-aware", load, overflow });

describe("load-aware routing", () => {
  it("sends a request where a sequence is free, not to a backend whose max_sequences are all taken, even with less KV", () => {
    const views = { a: on(lease(100), lease(100)), b: on(lease(5000)) };
    // a: 2 of 2 sequences taken (little KV); b: 1 of 4 (much more KV).
    expect(pick([cand("a", 2, 100_000), cand("b", 4, 100_000)], views, ask())).toMatchObject({ ok: true, key: "b" });
    // Without max_sequences, a's lower KV would win.
    expect(pick([cand("a", null, 100_000), cand("b", null, 100_000)], views, ask())).toMatchObject({ ok: true, key: "a" });
  });

  it("prefers the backend with the most free sequences, whatever their KV", () => {
    const views = { a: on(lease(100), lease(100), lease(100)), b: on(lease(3000)) };
    // a: 3 of 12 taken, little KV; b: 1 of 12 taken, more KV: b has more room for the next n > 1 request.
    expect(pick([cand("a", 12, 100_000), cand("b", 12, 100_000)], views, ask())).toMatchObject({ ok: true, key: "b" });
  });

  it("breaks a tie on free sequences by the lowest projected KV peak", () => {
    const views = { a: on(lease(4000)), b: on(lease(1000)) };
    expect(pick([cand("a", 12, 100_000), cand("b", 12, 100_000)], views, ask())).toMatchObject({ ok: true, key: "b" });
    expect(pick([cand("a", 12, 100_000), cand("b", 12, 100_000)], { a: views.b, b: views.a }, ask())).toMatchObject({ ok: true, key: "a" });
  });

  it("estimates each lease's remaining work as its expected answer less its age times the decode rate, then up to its max_tokens", () => {
    expect(remainingTokens(lease(1000, 0), 0, RATE)).toBe(1000);
    expect(remainingTokens(lease(1000, 0), 50_000, RATE)).toBe(500);
    expect(remainingTokens(lease(1000, 0), 500_000, RATE)).toBe(0);
    // Past its expected 1,000 tokens, a lease with max_tokens 3,000 may run on to it.
    expect(remainingTokens(lease(1000, 0, 1, 0, 3000), 150_000, RATE)).toBe(1500);
    expect(remainingTokens(lease(1000, 0, 1, 0, 3000), 400_000, RATE)).toBe(0);
  });

  it("counts a lease as ended once its estimate is END_MARGIN past its max_tokens, before its release comes", () => {
    // 1 of 1 sequence taken by a lease of max_tokens 1,000: 100 s at 10 tokens a second, 110 s with the margin.
    const c = [cand("a", 1)];
    const views = { a: on(lease(1000, 0, 1, 0, 1000)) };
    expect(1000 * (1 + END_MARGIN)).toBe(1100);
    expect(pick(c, views, ask(), 109_000)).toMatchObject({ ok: false, reason: "saturated" });
    expect(pick(c, views, ask(), 110_000)).toMatchObject({ ok: true, key: "a" });
    // Not without a max_tokens (it may run on); a lease whose sequences queued at first counts from when they started.
    expect(pick(c, { a: on(lease(1000, 0)) }, ask(), 500_000)).toMatchObject({ ok: false, reason: "saturated" });
    const late = { ...lease(1000, 0, 1, 0, 1000), allStartedBy: 50_000 };
    expect(pick(c, { a: on(late) }, ask(), 159_000)).toMatchObject({ ok: false, reason: "saturated" });
    expect(pick(c, { a: on(late) }, ask(), 160_000)).toMatchObject({ ok: true, key: "a" });
    expect(pick(c, { a: on({ ...late, allStartedBy: null }) }, ask(), 500_000)).toMatchObject({ ok: false, reason: "saturated" });
  });

  it("expects the sequences that queue in vLLM to start as our leases there end, by their max_tokens", () => {
    // 3 of 4 sequences taken: leases ending (with the margin) at 110 s and 220 s at 10 tokens a second.
    const leases = [lease(1000, 0, 1, 0, 1000), lease(2000, 0, 2, 0, 2000)];
    const c = cand("a", 4);
    expect(expectedAllStartedBy(c, leases, 1, 0)).toBe(0);
    // n = 2: one starts now, the other when the first lease ends; n = 3: when the second lease's first sequence ends too.
    expect(expectedAllStartedBy(c, leases, 2, 0)).toBe(110_000);
    expect(expectedAllStartedBy(c, leases, 3, 0)).toBe(220_000);
    // A lease with no max_tokens: it may run on, so nobody can say.
    expect(expectedAllStartedBy(c, [lease(1000, 0), ...leases], 2, 0)).toBeNull();
  });

  it("projects the KV peak from remaining work: leases grow until they end, the worst instant is just before one ends", () => {
    // Two leases 50 s in (500 tokens each so far): one expects 600 (100 left), one 2,000 (1,500 left); a prompt of 100 each.
    const leases = [lease(600, 0, 1, 100), lease(2000, 0, 1, 100)];
    // Just before the first ends: 700 + 700 = 1,400; just before the second ends: 2,100. Full lengths would say 2,800.
    expect(projectedPeakKv(leases, null, 50_000, RATE)).toBe(2100);
    // A request of n = 2 sharing a 100-token prompt, 1,000 tokens each, starting now: at 100 tokens in it holds 300
    // (with 700 + 700 from the others), at 1,000 tokens in (the second lease at 1,500) 2,100 + 1,600.
    expect(projectedPeakKv(leases, ask(1000, 2, 100), 50_000, RATE)).toBe(1600 + 2100);
  });

  it("does not hold a request that fits once leases' progress is counted, where their full lengths would not", () => {
    // 8 leases of a 1,000-token prompt and 10,000 answer tokens, 900 s in (9,000 done, 1,000 left): at full length
    // 88,000 + 20,000 > 90 % of 100,000; with their progress, 88,000 + 1,000 at the worst instant.
    const old = Array.from({ length: 8 }, () => lease(10_000, 0, 1, 1000));
    const views = { a: on(...old) };
    expect(pick([cand("a", 12, 100_000)], views, ask(20_000), 900_000)).toMatchObject({ ok: true, key: "a" });
    // The same leases just started: their peak is their full length, and the request is held.
    expect(pick([cand("a", 12, 100_000)], { a: on(...old.map((l) => ({ ...l, startedAt: 900_000 }))) }, ask(20_000), 900_000)).toMatchObject({
      ok: false,
      reason: "saturated",
    });
  });

  it("holds when no backend has a free sequence, and asks again when the soonest lease is expected to end (bounded)", () => {
    const views = { a: on(lease(1000, 0), lease(1000, 0)), b: on(lease(1000, 0), lease(1000, 0)) };
    const c = [cand("a", 2), cand("b", 2)];
    // At 99.5 s both have 5 tokens left: 0.5 s, a re-check then.
    expect(pick(c, views, ask(), 99_500)).toEqual({ ok: false, reason: "saturated", retryAfterMs: 500 });
    expect(pick(c, views, ask(), 0)).toEqual({ ok: false, reason: "saturated", retryAfterMs: HOLD_RECHECK_MAX_MS });
    expect(pick(c, views, ask(), 200_000)).toEqual({ ok: false, reason: "saturated", retryAfterMs: HOLD_RECHECK_MIN_MS });
    // An idle backend takes it, and so does a backend with a free sequence.
    expect(pick([...c, cand("z", 2)], views, ask(), 0)).toMatchObject({ ok: true, key: "z" });
    expect(backendLoad(cand("z", 2), on(lease(10)), ask(), 0)).toMatchObject({ sequences: 1, free: 1, open: true, msUntilFree: 0 });
  });

  it("past the hold (overflow), sends to the backend expected to free a sequence first", () => {
    // a's leases started at 0 and expect 1,000 tokens (100 s); b's started at 60 s: a frees first.
    const views = { a: on(lease(1000, 0), lease(1000, 0)), b: on(lease(1000, 60_000), lease(1000, 60_000)) };
    const c = [cand("a", 2), cand("b", 2)];
    expect(pick(c, views, ask(), 70_000, true)).toMatchObject({ ok: true, key: "a" });
    expect(pick(c, { a: views.b, b: views.a }, ask(), 70_000, true)).toMatchObject({ ok: true, key: "b" });
  });

  it("reads max_sequences and decode_tokens_per_second from BACKENDS, and refuses bad values naming the field", () => {
    const entry = { name: "a", url: "http://a.test", models: ["GAIR/LIMO"], max_sequences: 64, decode_tokens_per_second: 36 };
    expect(BackendConfigSchema.parse(entry)).toMatchObject({ max_sequences: 64, decode_tokens_per_second: 36 });
    expect(() => loadDeployment(JSON.stringify([{ ...entry, max_sequences: 0 }]))).toThrow(expect.objectContaining({ internal: expect.stringContaining("0.max_sequences") }));
    expect(() => loadDeployment(JSON.stringify([{ ...entry, max_sequences: 2.5 }]))).toThrow(expect.objectContaining({ internal: expect.stringContaining("0.max_sequences") }));
    expect(() => loadDeployment(JSON.stringify([{ ...entry, decode_tokens_per_second: -1 }]))).toThrow(
      expect.objectContaining({ internal: expect.stringContaining("0.decode_tokens_per_second") }),
    );
  });
});

describe("the pool object holding load-aware requests", () => {
  const key = () => `http://held-${crypto.randomUUID()}.test`;
  const request = (k: string, heldSince: number): AcquireRequest => ({
    candidates: [cand(k, 1)],
    priority: "interactive",
    waitMs: 10_000,
    policy: "load-aware",
    load: ask(),
    heldSince,
  });

  it("gives a freed sequence to the held request that arrived first, however late it asked", async () => {
    const pool = poolObject(env);
    const k = key();
    const first = await pool.acquire(request(k, Date.now()));
    expect(first).toMatchObject({ ok: true, key: k });
    // Both wait for the one sequence; the second to ask has held longer (its hold began earlier).
    const later = pool.acquire(request(k, Date.now()));
    const earlier = pool.acquire(request(k, Date.now() - 5_000));
    const order: string[] = [];
    void later.then(() => order.push("later"));
    void earlier.then(() => order.push("earlier"));
    await pool.release((first as { leaseId: string }).leaseId, "success");
    const granted = await earlier;
    expect(granted).toMatchObject({ ok: true, key: k });
    expect(order).toEqual(["earlier"]);
    expect(await pool.inFlight(k)).toBe(1);
    await pool.release((granted as { leaseId: string }).leaseId, "success");
    expect(await later).toMatchObject({ ok: true, key: k });
    expect(order).toEqual(["earlier", "later"]);
  });
});

describe("the pool object's leases", () => {
  it("records when all of a lease's sequences are expected to start: at the grant, or as the leases before it end", async () => {
    const pool = poolObject(env);
    const k = `http://once-${crypto.randomUUID()}.test`;
    const req = (overflow: boolean): AcquireRequest => ({ candidates: [cand(k, 2)], priority: "interactive", waitMs: 0, policy: "load-aware", load: ask(), overflow });
    const first = await pool.acquire(req(false));
    const second = await pool.acquire(req(false));
    // Both sequences taken: held, and past the hold sent anyway, where it queues in vLLM.
    expect(await pool.acquire(req(false))).toMatchObject({ ok: false, reason: "saturated" });
    const third = await pool.acquire(req(true));
    const leases = ((await pool.views([k])) as Record<string, BackendView>)[k]!.leases!;
    expect(leases.map((l) => l.allStartedBy === l.startedAt)).toEqual([true, true, false]);
    // Without max_tokens the first two may run on: when the third starts cannot be said.
    expect(leases[2]!.allStartedBy).toBeNull();
    for (const l of [first, second, third]) await pool.release((l as { leaseId: string }).leaseId, "success");
    expect(await pool.inFlight(k)).toBe(0);
  });
});

describe("load-aware through the router", () => {
  it("never sends a backend more sequences than its max_sequences: the request beyond them is held, then served where one frees", async () => {
    const f = await fleet({ backends: 2, fields: { max_sequences: 1 }, env: { ROUTING_POLICY: "load-aware", KEEPALIVE_INTERVAL_MS: "100" } });
    for (const sim of f.sims) await sim.configure({ tokens_per_second: 60 });
    const answers = await Promise.all([0, 1, 2].map(() => f.chat({ stream: true, max_tokens: 12 })));
    for (const res of answers) expect(res.status).toBe(200);
    for (const data of await Promise.all(answers.map(readSseData))) expect(data.at(-1)).toBe("[DONE]");
    const seen = await Promise.all(f.sims.map(async (s) => (await s.stats()).max_in_flight_seen));
    // Without the hold the third would have joined one of the first two: 2 at a backend at once.
    expect(seen).toEqual([1, 1]);
    expect(await f.settled(3)).toHaveLength(3);
  });
});
