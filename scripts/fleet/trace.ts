/**
 * @module fleet/trace
 * The tutoring load trace `npm run fleet` replays, scaled so a run fits the
 * machine. Students ask short questions; LIMO answers at length: answer
 * lengths are the planner's LIMO distribution (scripts/plan/distribution:
 * log-normal, median 16,000, sigma 0.35, clipped to 2,000-32,000 tokens)
 * divided by LENGTH_DIVISOR; a share asks for several samples (`n`, as
 * `vote` does); a share repeats an earlier deterministic question, which the
 * gateway's cache answers. Arrivals are Poisson at a set share of the
 * fleet's capacity.
 *
 * Why the scaling keeps the comparison: dividing every answer and the KV
 * cache by the same factor keeps how many answers fit a GPU at once (7 at
 * full length, as on an H200), the shape of the length distribution (its
 * coefficient of variation) and, with the arrival rate raised by the same
 * factor, the utilisation: the queueing and the KV pressure the policies
 * differ on are the same, on a shorter clock. Step times are the profile's
 * (the KV term is smaller, by under 1 ms a step).
 */
import { LIMO_ANSWER_SPEC, normalQuantile } from "../plan/distribution";

/**
 * Full-length answers and KV are divided by this (32: 2,000-32,000 tokens
 * become 62-1,000). The larger it is, the more service times (and so the
 * more requests) a run of the same wall time and CPU holds: its tail
 * percentiles then measure the steady state rather than a few bursts.
 */
export const LENGTH_DIVISOR = 32;
const [, MEDIAN, SIGMA, MIN, MAX] = LIMO_ANSWER_SPEC.split(":").map(Number) as [number, number, number, number, number];

export interface TraceRequest {
  /** Arrival, simulated seconds from the start. */
  at: number;
  /** Scaled answer length the simulator generates (its min_tokens knob: the gateway never sees it). */
  answerTokens: number;
  n: number;
  /** A deterministic question (temperature 0), repeated by later requests: the cache's share. */
  question: string;
  deterministic: boolean;
}

export interface TraceOptions {
  requests: number;
  /** Requests per simulated second. */
  rate: number;
  /** Share of requests with n > 1 (n = N_SAMPLES). */
  nShare: number;
  /** Share that repeats an earlier deterministic question. */
  repeatShare: number;
  seed: number;
}

/** Samples per request of the n > 1 share (as `vote` asks). */
export const N_SAMPLES = 4;

/** A small deterministic PRNG (mulberry32): the same seed gives every policy the same trace. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One answer length of the scaled LIMO distribution. */
export function answerLength(random: () => number): number {
  const full = Math.min(MAX, Math.max(MIN, MEDIAN * Math.exp(SIGMA * normalQuantile(Math.min(1 - 1e-9, Math.max(1e-9, random()))))));
  return Math.max(1, Math.round(full / LENGTH_DIVISOR));
}

/** The mean scaled answer length (quadrature over the quantile), for capacity and the router's expectation. */
export function meanAnswerLength(): number {
  let sum = 0;
  const points = 10_000;
  for (let i = 0; i < points; i++) {
    const u = (i + 0.5) / points;
    sum += Math.min(MAX, Math.max(MIN, MEDIAN * Math.exp(SIGMA * normalQuantile(u)))) / LENGTH_DIVISOR;
  }
  return sum / points;
}

export function makeTrace(options: TraceOptions): TraceRequest[] {
  const random = prng(options.seed);
  const out: TraceRequest[] = [];
  const asked: TraceRequest[] = [];
  let at = 0;
  for (let i = 0; i < options.requests; i++) {
    at += -Math.log(1 - random()) / options.rate;
    const repeat = asked.length > 0 && random() < options.repeatShare;
    if (repeat) {
      const earlier = asked[Math.floor(random() * asked.length)]!;
      out.push({ ...earlier, at });
      continue;
    }
    const deterministic = random() < 0.5;
    const request: TraceRequest = {
      at,
      answerTokens: answerLength(random),
      n: random() < options.nShare ? N_SAMPLES : 1,
      question: `Tutoring question ${i}: how many ways can ${3 + (i % 7)} students sit at a round table of ${5 + (i % 11)} seats?`,
      deterministic,
    };
    if (deterministic) asked.push(request);
    out.push(request);
  }
  return out;
}
