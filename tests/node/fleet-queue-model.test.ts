/**
 * @module node/fleet-queue-model.test
 * The queueing model `npm run fleet` checks its measurement with
 * (scripts/fleet/queue-model): waits worked out by hand on small traces,
 * round robin and pooled dispatch agreeing where they must (one backend),
 * differing where pooling helps, and the pooled model on a long trace of
 * Poisson arrivals and exponential answers reproducing M/M/c: the share
 * that waits is Erlang C and the p95 wait the M/M/c quantile.
 */
import { describe, expect, it } from "vitest";
import { erlangC, waitQuantile } from "../../scripts/plan/erlang";
import { quantile } from "../../scripts/fleet/report";
import { modelWaits } from "../../scripts/fleet/queue-model";
import { prng, type TraceRequest } from "../../scripts/fleet/trace";

const ask = (at: number, answerTokens: number, extra: Partial<TraceRequest> = {}): TraceRequest => ({
  at,
  answerTokens,
  n: 1,
  question: `q${at}`,
  deterministic: false,
  ...extra,
});

describe("fleet queue model", () => {
  it("waits by hand: one slot, first come first served, a repeat answered by the cache", () => {
    const trace = [ask(0, 10, { question: "a", deterministic: true }), ask(1, 5), ask(2, 7, { question: "a", deterministic: true }), ask(3, 1)];
    const setup = { servers: 1, slots: 1, stepSeconds: 1 };
    // The second starts when the first ends (10), the third is a cache hit, the fourth starts at 15.
    expect(modelWaits(trace, setup, "round-robin")).toEqual([0, 9, 0, 12]);
    expect(modelWaits(trace, setup, "pooled")).toEqual([0, 9, 0, 12]);
  });

  it("n sequences take n slots; the first to start sets the wait", () => {
    const trace = [ask(0, 4), ask(1, 2, { n: 3 }), ask(2, 1)];
    // Two slots: the n = 3 request starts one sequence at 1 (wait 0), its second at 3, its third at 4; the last asks at 2 and starts at 5.
    expect(modelWaits(trace, { servers: 1, slots: 2, stepSeconds: 1 }, "pooled")).toEqual([0, 0, 3]);
  });

  it("round robin queues behind a busy backend where pooling uses the free one", () => {
    const trace = [ask(0, 10), ask(1, 1), ask(2, 1)];
    const setup = { servers: 2, slots: 1, stepSeconds: 1 };
    expect(modelWaits(trace, setup, "round-robin")).toEqual([0, 0, 8]);
    expect(modelWaits(trace, setup, "pooled")).toEqual([0, 0, 0]);
  });

  it("with one backend the two dispatchers are the same queue", () => {
    const random = prng(5);
    let at = 0;
    const trace = Array.from({ length: 2_000 }, (_, i) => ask((at += -Math.log(1 - random()) / 0.7), 1 + Math.floor(random() * 20), { question: `q${i % 50}`, deterministic: random() < 0.3, n: random() < 0.1 ? 3 : 1 }));
    const setup = { servers: 1, slots: 6, stepSeconds: 0.5 };
    expect(modelWaits(trace, setup, "pooled", 9)).toEqual(modelWaits(trace, setup, "round-robin"));
  });

  it("pooled over Poisson arrivals and exponential answers is M/M/c: Erlang C waits, and the p95 wait", () => {
    const servers = 2;
    const slots = 6;
    const c = servers * slots;
    const lambda = 9; // a second; mean service 1 s: load 9 on 12 slots (75 %)
    const random = prng(2026);
    let at = 0;
    // Answers exponential with mean 1 s: 1,000,000 tokens at 1 µs each, so rounding to whole tokens is negligible.
    const trace = Array.from({ length: 200_000 }, () => ask((at += -Math.log(1 - random()) / lambda), Math.max(1, Math.round(-Math.log(1 - random()) * 1e6))));
    const waits = modelWaits(trace, { servers, slots, stepSeconds: 1e-6 }, "pooled").slice(1_000);
    const waited = waits.filter((w) => w > 0).length / waits.length;
    const expected = erlangC(c, lambda);
    expect(Math.abs(waited - expected)).toBeLessThan(0.015);
    const p95 = quantile([...waits].sort((a, b) => a - b), 0.95)!;
    const theory = waitQuantile({ servers: c, arrivalsPerSecond: lambda, meanServiceSeconds: 1, serviceScv: 1 }, 0.95);
    expect(Math.abs(p95 - theory) / theory).toBeLessThan(0.05);
    // Split into two round-robin halves, the same load waits more (Erlang C for 6 slots at load 4.5 is higher).
    const split = modelWaits(trace, { servers, slots, stepSeconds: 1e-6 }, "round-robin").slice(1_000);
    expect(split.filter((w) => w > 0).length / split.length).toBeGreaterThan(waited + 0.05);
  });
});
