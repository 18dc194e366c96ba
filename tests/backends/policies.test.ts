/**
 * The routing policies as pure functions (routing/choose, routing/load-aware),
 * the idle timeout against the GPU profiles' arithmetic, and a `vote`/`n`
 * request reaching its backend as one request.
 */
import { describe, expect, it } from "vitest";
import { GPU_PROFILES } from "../../gpu/sim/perf/profiles";
import { kvCapacityTokens, stepMs } from "../../gpu/sim/perf/arithmetic";
import { closedBreaker, onResult, BREAKER_FAILURE_THRESHOLD } from "../../worker/routing/breaker";
import { chooseBackend } from "../../worker/routing/choose";
import { KV_HOLD_FRACTION, requestLoad } from "../../worker/routing/load-aware";
import { routingPolicy } from "../../worker/routing/policy";
import type { BackendView, Candidate } from "../../worker/routing/pool-rpc";
import { fleet } from "./setup";

const cand = (key: string, kvTokens: number | null = null): Candidate => ({ key, name: key, weight: 1, maxInFlight: null, kvTokens });
const idle = (): BackendView => ({ inFlight: 0, breaker: closedBreaker(), health: null });

describe("routing policies", () => {
  it("reads ROUTING_POLICY, defaulting to today's least-loaded", () => {
    expect(routingPolicy({}).name).toBe("least-loaded");
    expect(routingPolicy({ ROUTING_POLICY: "load-aware" }).name).toBe("load-aware");
    expect(routingPolicy({ ROUTING_POLICY: "round-robin" }).name).toBe("round-robin");
    expect(routingPolicy({ ROUTING_POLICY: "fastest" }).name).toBe("least-loaded");
  });

  it("round robin takes the free backends in turn", () => {
    const c = [cand("a"), cand("b"), cand("c")];
    const picks = [0, 1, 2, 3].map((turn) => chooseBackend(c, idle, 0, Math.random, { policy: "round-robin", turn }));
    expect(picks.map((p) => (p.ok ? p.key : null))).toEqual(["a", "b", "c", "a"]);
  });

  it("load-aware sends to the lowest projected KV peak, and holds when every backend would pass the threshold", () => {
    // Leases just started (no progress yet): their peak is their full length.
    const lease = (kv: number) => ({ sequences: 1, promptTokens: 0, answerTokens: kv, capTokens: null, startedAt: 0, allStartedBy: 0 });
    const views: Record<string, BackendView> = {
      a: { ...idle(), inFlight: 3, leases: [lease(20_000), lease(20_000), lease(20_000)] },
      b: { ...idle(), inFlight: 1, leases: [lease(20_000)] },
    };
    const c = [cand("a", 100_000), cand("b", 100_000)];
    const load = { sequences: 1, promptTokens: 0, answerTokens: 20_000, capTokens: null, kvTokens: 20_000 };
    expect(chooseBackend(c, (k) => views[k]!, 0, () => 0.5, { policy: "load-aware", load })).toMatchObject({ ok: true, key: "b" });
    // Four leases on each: one more 20k request, growing beside them, ends with 4 x 20k + 20k held, past 90 %.
    views.b = { ...idle(), inFlight: 4, leases: [lease(25_000), lease(25_000), lease(25_000), lease(25_000)] };
    expect(4 * 20_000 + 20_000).toBeGreaterThan(KV_HOLD_FRACTION * 100_000);
    views.a = { ...idle(), inFlight: 4, leases: [lease(20_000), lease(20_000), lease(20_000), lease(20_000)] };
    expect(chooseBackend(c, (k) => views[k]!, 0, () => 0.5, { policy: "load-aware", load })).toMatchObject({ ok: false, reason: "saturated" });
    // An idle backend always takes a request, however large.
    expect(chooseBackend([cand("z", 10)], idle, 0, () => 0.5, { policy: "load-aware", load })).toMatchObject({ ok: true, key: "z" });
  });

  it("counts n as sequences sharing the prompt, and caps the expected answer at max_tokens", () => {
    const body = { messages: [{ role: "user", content: "x".repeat(398) }], n: 4, max_tokens: 1000 };
    const prompt = Math.ceil(JSON.stringify(body.messages).length / 4);
    expect(requestLoad(body, 16_000)).toEqual({ sequences: 4, promptTokens: prompt, answerTokens: 1000, capTokens: 1000, kvTokens: prompt + 4 * 1000 });
    expect(requestLoad({ prompt: "abcd", max_tokens: 32_000 }, 16_000)).toEqual({ sequences: 1, promptTokens: 1, answerTokens: 16_000, capTokens: 32_000, kvTokens: 1 + 16_000 });
    expect(requestLoad({ prompt: "abcd" }, 16_000)).toMatchObject({ answerTokens: 16_000, capTokens: null });
  });

  it("probes an open breaker at once when it is the only way, never when another backend was left out", () => {
    let open = closedBreaker();
    for (let i = 0; i < BREAKER_FAILURE_THRESHOLD; i++) open = onResult(open, "failure", 0);
    const view = () => ({ ...idle(), breaker: open });
    expect(chooseBackend([cand("a")], view, 1)).toEqual({ ok: true, key: "a", probe: true });
    expect(chooseBackend([cand("a")], view, 1, Math.random, { noEarlyProbe: true })).toMatchObject({ ok: false, reason: "unavailable" });
    const probing = () => ({ ...idle(), breaker: { ...open, phase: "half_open" as const, probing: true } });
    expect(chooseBackend([cand("a")], probing, 1)).toMatchObject({ ok: false, reason: "unavailable" });
  });

  it("sets the idle timeout far above the longest pause the GPU profiles can produce", () => {
    const idleMs = routingPolicy({}).idleTimeoutMs;
    for (const profile of Object.values(GPU_PROFILES)) {
      // The worst step: a full prefill chunk beside a full KV cache; a preempted 32k sequence recomputes in 4 of them.
      const worstStep = stepMs(profile, { decodeSequences: 0, contextTokens: kvCapacityTokens(profile), prefillTokens: profile.maxNumBatchedTokens });
      const recompute = Math.ceil(32_768 / profile.maxNumBatchedTokens) * worstStep;
      expect(worstStep).toBeLessThan(1_200);
      expect(idleMs).toBeGreaterThanOrEqual(10 * recompute);
    }
  });

  it("sends an n > 1 request to its backend as one request", async () => {
    const f = await fleet({ backends: 1 });
    const res = await f.chat({ n: 3, max_tokens: 6 });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { choices: unknown[] }).choices).toHaveLength(3);
    expect((await f.sims[0]!.stats()).requests_total).toBe(1);
    await f.settled(1);
  });
});
