/**
 * @module sim/vllm-engine.test
 * The step-by-step vLLM engine on a virtual clock, against closed forms:
 * the time of the first token and of every decode step, continuous
 * batching up to max_num_seqs, admission only while KV blocks are free, the
 * exact token at which recompute preemption of the newest sequence starts,
 * its pause and recompute, and `n` choices sharing their prompt's blocks.
 * No wall time is involved: the clock moves only when the test moves it.
 */
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../gpu/sim/fleet/clock";
import { VllmEngine, type EngineSequence } from "../../gpu/sim/fleet/vllm-engine";
import { GPU_PROFILES } from "../../gpu/sim/perf/profiles";

const H200 = GPU_PROFILES["h200-bf16"];
const GIB = 2 ** 30;
const KV_TOKEN_BYTES = 256 * 1024;
/** A memory-bound H200 step reading `context` tokens of KV, in ms (profiles.md, "step time"). */
const h200StepMs = (context: number) => 0.4 + ((61 * GIB + context * KV_TOKEN_BYTES) / 4.8e12) * 1000;
/** A compute-bound H200 step of `tokens` tokens: 2 FLOPs per parameter at half of 989 TFLOP/s. */
const h200ComputeMs = (tokens: number) => 0.4 + ((tokens * 61 * GIB) / (989e12 * 0.5)) * 1000;

function engine(maxNumSeqs = 64) {
  const clock = new VirtualClock();
  return { clock, engine: new VllmEngine(H200, clock, { maxNumSeqs }) };
}

const seq = (promptTokens: number, outputTokens: number, prefixKey: object | null = null) => ({ model: "GAIR/LIMO", promptTokens, outputTokens, prefixKey });

describe("one sequence alone", () => {
  it("gets its first token after one prefill step and then one token per decode step", () => {
    const { clock, engine: e } = engine();
    const s = e.submit(seq(100, 5));
    clock.runUntilIdle();
    // Prefill of 100 tokens is memory-bound (100 x 65.5 GFLOP at 494.5 TFLOP/s = 13.2 ms < 13.7 ms).
    expect(s.firstTokenAtMs).toBeCloseTo(h200StepMs(100), 9);
    // Token g+1 needs token g's KV: decode steps read 101, 102, 103, 104 tokens.
    const end = h200StepMs(100) + h200StepMs(101) + h200StepMs(102) + h200StepMs(103) + h200StepMs(104);
    expect(clock.now()).toBeCloseTo(end, 9);
    expect(s).toMatchObject({ state: "finished", generated: 5 });
    expect(e.counters).toMatchObject({ steps: 5, generationTokens: 5, promptTokens: 100, preemptions: 0 });
    expect(e.usedBlocks).toBe(0);
  });

  it("prefills a long prompt in chunks of max_num_batched_tokens (8,192)", () => {
    const { clock, engine: e } = engine();
    const s = e.submit(seq(20_000, 1));
    clock.runUntilIdle();
    // Three compute-bound chunks: 8,192 + 8,192 + 3,616 tokens.
    expect(s.firstTokenAtMs).toBeCloseTo(h200ComputeMs(8192) * 2 + h200ComputeMs(3616), 6);
    expect(e.counters.steps).toBe(3);
  });
});

describe("continuous batching", () => {
  it("runs up to max_num_seqs sequences per step; the rest wait and join as others finish", () => {
    const { clock, engine: e } = engine(7);
    const seqs = Array.from({ length: 10 }, () => e.submit(seq(16, 100)));
    clock.advanceBy(1);
    expect(e.gauges()).toMatchObject({ running: 7, waiting: 3 });
    clock.runUntilIdle();
    expect(seqs.every((s) => s.state === "finished" && s.generated === 100)).toBe(true);
    // The three waiting sequences joined the step after the first seven finished.
    expect(seqs[7]!.firstTokenAtMs).toBeGreaterThan(seqs[0]!.firstTokenAtMs! + 99 * h200StepMs(0));
  });

  it("a batch step costs more than a lone step but far less than one step per sequence", () => {
    const { clock, engine: e } = engine();
    for (let i = 0; i < 7; i++) e.submit(seq(16, 2));
    clock.runUntilIdle();
    // 7 x 16 = 112 prompt tokens in one step, compute-bound (14.8 ms > 13.7 ms of weights), then
    // one memory-bound decode step of 7 x 17 context tokens: 29.3 ms for 14 tokens, not 7 x 28.
    expect(clock.now()).toBeCloseTo(h200ComputeMs(112) + h200StepMs(7 * 17), 9);
    expect(clock.now()).toBeLessThan(2 * h200StepMs(0) + 2);
  });
});

describe("KV admission and recompute preemption", () => {
  it("16 sequences of a 100-token prompt preempt the newest when each needs its 982nd block (15,697 tokens)", () => {
    const { clock, engine: e } = engine();
    const seqs = Array.from({ length: 16 }, () => e.submit(seq(100, 16_000)));
    let preemptedAt: number[] | null = null;
    // Watch for the first preemption, step by step.
    while (preemptedAt === null) {
      clock.advanceTo(clock.nextAt()!);
      if (e.counters.preemptions > 0) preemptedAt = seqs.map((s) => s.generated);
    }
    // 16 x 981 = 15,696 blocks fit in 15,708; 16 x 982 = 15,712 do not: it happens as the sequences
    // compute position 15,697 = 100 + 15,597 generated tokens.
    expect(e.capacityBlocks).toBe(15_708);
    expect(preemptedAt.every((g) => g === 15_597)).toBe(true);
    expect(seqs[15]!).toMatchObject({ state: "waiting", preemptions: 1, computed: 0, ownBlocks: 0 });
    expect(seqs.slice(0, 15).every((s) => s.state === "running" && s.preemptions === 0)).toBe(true);
    expect(e.gauges()).toMatchObject({ running: 15, waiting: 1 });
    expect(e.gauges().kvUsage).toBeCloseTo((15 * 982) / 15_708, 9);
  });

  it("the newest sequence pauses and is recomputed again and again until the others finish", () => {
    const { clock, engine: e } = engine();
    const seqs = Array.from({ length: 16 }, () => e.submit(seq(100, 16_000)));
    const victim = seqs[15]!;
    while (victim.preemptions === 0) clock.advanceTo(clock.nextAt()!);
    const pausedAt = clock.now();
    const generatedAtPause = victim.generated;
    // While the 15 others still run, the victim is re-admitted whenever its next 8,192-token chunk
    // fits, and preempted again (it is the newest) when the chunk after that does not: thrash.
    while (seqs[0]!.state === "running") clock.advanceTo(clock.nextAt()!);
    expect(victim.generated).toBe(generatedAtPause);
    expect(victim.preemptions).toBeGreaterThan(10);
    expect(clock.now() - pausedAt).toBeGreaterThan(400 * h200StepMs(0));
    clock.runUntilIdle();
    expect(victim).toMatchObject({ state: "finished", generated: 16_000 });
    expect(seqs.slice(0, 15).every((s) => s.generated === 16_000 && s.preemptions === 0)).toBe(true);
    // At least its whole cached context (100 + 15,597 - 1 tokens) was computed twice.
    expect(e.counters.recomputedTokens).toBeGreaterThanOrEqual(100 + 15_597 - 1);
    expect(e.counters.preemptions).toBe(victim.preemptions);
  });

  it("admits a waiting sequence only while its first chunk's blocks are free", () => {
    const { clock, engine: e } = engine();
    // 7 x 32,000-token prompts fill 7 x 2,000 = 14,000 blocks; an eighth (2,000 more) does not fit.
    const seqs = Array.from({ length: 8 }, () => e.submit(seq(32_000, 1)));
    clock.advanceTo(clock.nextAt()! - 0.001);
    expect(e.gauges().running).toBeLessThanOrEqual(8);
    while (!seqs.slice(0, 7).every((s) => s.computed === 32_000)) clock.advanceTo(clock.nextAt()!);
    clock.runUntilIdle();
    expect(seqs.every((s) => s.state === "finished")).toBe(true);
  });
});

describe("n choices", () => {
  it("run as separate sequences sharing the prompt's full blocks", () => {
    const { clock, engine: e } = engine();
    const key = {};
    const choices: EngineSequence[] = Array.from({ length: 4 }, () => e.submit(seq(1000, 10, key)));
    clock.advanceBy(0.001);
    // 62 shared blocks (992 tokens) + one own block each for the last 8 prompt tokens.
    expect(e.usedBlocks).toBe(62 + 4);
    expect(e.gauges().running).toBe(4);
    clock.runUntilIdle();
    // The first choice prefills 1,000 tokens, the others only their last 8.
    expect(choices[0]!.firstTokenAtMs).toBe(choices[3]!.firstTokenAtMs);
    expect(choices.every((c) => c.generated === 10)).toBe(true);
    expect(e.usedBlocks).toBe(0);
  });
});

describe("aborts and a lost container", () => {
  it("an abort frees the sequence's blocks at once", () => {
    const { clock, engine: e } = engine();
    const s = e.submit(seq(160, 100));
    clock.advanceBy(100);
    expect(e.usedBlocks).toBeGreaterThan(0);
    e.abort(s);
    expect(s.state).toBe("aborted");
    expect(e.usedBlocks).toBe(0);
    clock.runUntilIdle();
    expect(e.counters.aborted).toBe(1);
  });

  it("die() ends every sequence as lost and refuses new ones", () => {
    const { clock, engine: e } = engine();
    const a = e.submit(seq(16, 100));
    clock.advanceBy(50);
    e.die();
    const b = e.submit(seq(16, 100));
    expect([a.lost, b.lost]).toEqual([true, true]);
    expect(clock.runUntilIdle()).toBe(50);
  });
});
