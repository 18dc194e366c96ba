/**
 * @module eval-report
 * Turns results.jsonl into the report (report.json; report-md.ts renders it).
 * A problem is scored when all its samples have an answer; one whose samples
 * kept failing is an error, reported apart and left out of every rate (it
 * says nothing about the model). An answer the checker could not decide is
 * wrong in the rates and counted in `undecided`. With one sample the rate is
 * the accuracy with a Wilson interval; with K it is pass@1 (each problem's
 * share of correct samples, averaged, with a normal interval over problems),
 * maj@K and pass@K (Wilson).
 */
import { gradeMajority } from "./grade";
import type { Sampling } from "./options";
import { publishedFigure } from "./published";
import type { ResultRow, RunState } from "./results";
import { mean, meanInterval, passAtK, percentile, wilsonInterval, type Interval } from "./stats";

export interface Rate {
  /** In [0, 1]. */
  value: number;
  /** Correct problems (for pass@1 over K samples: the sum of per-problem shares). */
  correct: number;
  of: number;
  interval: Interval;
}

export interface GroupRate extends Rate {
  group: string;
}

export interface Spread {
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

/** What the API told us about itself. */
export interface ApiFacts {
  base_url: string;
  /** `info` of its /openapi.json, when it serves one. */
  title: string | null;
  version: string | null;
  /** Ours (the LIMO Reasoning API): costs are the ledger's. */
  ours: boolean;
}

export interface SimulatorFacts {
  oracle: { accuracy: number; seed: number };
  oracle_correct: number;
  oracle_wrong: number;
}

export interface EvalReport {
  run_id: string;
  status: "complete" | "interrupted" | "incomplete";
  dataset: { name: string; path: string; sha256: string; problems_in_file: number; problems_planned: number };
  settings: Sampling & { served_models: string[]; api: ApiFacts; cache: boolean; concurrency: number };
  counts: { problems_scored: number; problems_with_errors: number; problems_missing: number; samples_ok: number; samples_error: number; undecided: number };
  /** accuracy (one sample) or pass@1 (K samples). */
  metric: "accuracy" | "pass@1";
  accuracy: Rate;
  maj_at_k: Rate | null;
  pass_at_k: Rate | null;
  published: { model: string; percent: number; difference_points: number } | null;
  by_level: GroupRate[];
  by_subject: GroupRate[];
  tokens: Spread & { total_completion: number; total_prompt: number; hit_max_tokens: number };
  latency_ms: Spread;
  ttft_ms: Spread | null;
  /** Completion tokens a second within each answer, after its first token. */
  decode_tokens_per_second_p50: number | null;
  duration_ms: number;
  cost: { billed_micro_usd: number | null; list_micro_usd: number | null };
  errors: { problem_id: string; sample: number; status: number | null; error: string }[];
  undecided: { problem_id: string; sample: number; extracted: string | null; reference: string }[];
  simulator: (SimulatorFacts & { accuracy: number }) | null;
}

export interface ReportInput {
  state: RunState;
  /** Latest row per (problem, sample). */
  rows: readonly ResultRow[];
  /** The problems this session asked for (ids); rows of others (an earlier, larger --limit) count too. */
  planned: readonly string[];
  api: ApiFacts;
  cache: boolean;
  concurrency: number;
  interrupted: boolean;
  durationMs: number;
  simulator: SimulatorFacts | null;
}

/** Aggregates the rows into the report (maj@K asks the checker, hence async). */
export async function buildReport(input: ReportInput): Promise<EvalReport> {
  const { state, rows } = input;
  const k = state.sampling.samples;
  const byProblem = new Map<string, ResultRow[]>();
  for (const row of rows) byProblem.set(row.problem_id, [...(byProblem.get(row.problem_id) ?? []), row]);
  const scored = [...byProblem.values()].filter((samples) => samples.filter((r) => r.status === "ok").length >= k);
  const withErrors = [...byProblem.values()].filter((samples) => samples.some((r) => r.status === "error"));
  const ok = rows.filter((r) => r.status === "ok");
  const known = new Set([...byProblem.keys(), ...input.planned]);
  const missing = [...known].filter((id) => !scored.some((s) => s[0]!.problem_id === id) && !withErrors.some((s) => s[0]!.problem_id === id));

  const rateOf = (problems: ResultRow[][]): Rate => {
    const shares = problems.map((samples) => okSamples(samples, k).filter((r) => r.correct === true).length / k);
    const correct = shares.reduce((a, b) => a + b, 0);
    const interval = k === 1 ? wilsonInterval(correct, problems.length) : meanInterval(shares);
    return { value: problems.length ? correct / problems.length : 0, correct, of: problems.length, interval };
  };
  const accuracy = rateOf(scored);

  let majAtK: Rate | null = null;
  let passK: Rate | null = null;
  if (k > 1) {
    let majCorrect = 0;
    let passCorrect = 0;
    for (const samples of scored) {
      const chosen = okSamples(samples, k);
      const vote = await gradeMajority(chosen[0]!.reference, chosen.map((r) => r.extracted_answer));
      if (vote.correct === true) majCorrect++;
      passCorrect += passAtK(k, chosen.filter((r) => r.correct === true).length, k);
    }
    majAtK = { value: scored.length ? majCorrect / scored.length : 0, correct: majCorrect, of: scored.length, interval: wilsonInterval(majCorrect, scored.length) };
    passK = { value: scored.length ? passCorrect / scored.length : 0, correct: passCorrect, of: scored.length, interval: wilsonInterval(passCorrect, scored.length) };
  }

  const groupRates = (key: (r: ResultRow) => string | null): GroupRate[] => {
    const groups = new Map<string, ResultRow[][]>();
    for (const samples of scored) {
      const group = key(samples[0]!);
      if (group !== null) groups.set(group, [...(groups.get(group) ?? []), samples]);
    }
    return [...groups].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true })).map(([group, problems]) => ({ group, ...rateOf(problems) }));
  };

  const servedModels = [...new Set(ok.map((r) => r.served_model).filter((m): m is string => m !== null))];
  const published = publishedFigure(servedModels[0] ?? state.sampling.model, state.dataset.name);
  const tokens = ok.map((r) => r.completion_tokens);
  const latencies = ok.map((r) => r.latency_ms).filter((v): v is number => v !== null);
  const ttfts = ok.map((r) => r.ttft_ms).filter((v): v is number => v !== null);
  const decode = ok
    .filter((r) => r.latency_ms !== null && r.ttft_ms !== null && r.latency_ms > r.ttft_ms && r.completion_tokens > 1)
    .map((r) => ((r.completion_tokens - 1) * 1000) / (r.latency_ms! - r.ttft_ms!));
  const sum = (values: (number | null)[]) => (values.some((v) => v === null) ? null : values.reduce<number>((a, v) => a + v!, 0));
  const status = input.interrupted ? "interrupted" : missing.length > 0 || withErrors.length > 0 ? "incomplete" : "complete";

  return {
    run_id: state.run_id,
    status,
    dataset: { ...state.dataset, problems_in_file: state.dataset.problems, problems_planned: known.size },
    settings: { ...state.sampling, served_models: servedModels, api: input.api, cache: input.cache, concurrency: input.concurrency },
    counts: {
      problems_scored: scored.length,
      problems_with_errors: withErrors.filter((s) => !scored.includes(s)).length,
      problems_missing: missing.length,
      samples_ok: ok.length,
      samples_error: rows.length - ok.length,
      undecided: ok.filter((r) => r.correct === null).length,
    },
    metric: k === 1 ? "accuracy" : "pass@1",
    accuracy,
    maj_at_k: majAtK,
    pass_at_k: passK,
    published: published && { ...published, difference_points: round2(accuracy.value * 100 - published.percent) },
    by_level: groupRates((r) => (r.level === null ? null : `Level ${r.level}`)),
    by_subject: groupRates((r) => r.subject),
    tokens: { ...spread(tokens), total_completion: tokens.reduce((a, b) => a + b, 0), total_prompt: ok.reduce((a, r) => a + r.prompt_tokens, 0), hit_max_tokens: ok.filter((r) => r.finish_reason === "length").length },
    latency_ms: spread(latencies),
    ttft_ms: ttfts.length ? spread(ttfts) : null,
    decode_tokens_per_second_p50: decode.length ? round2(percentile(decode, 50)) : null,
    duration_ms: input.durationMs,
    cost: { billed_micro_usd: sum(ok.map((r) => r.cost_micro_usd)), list_micro_usd: sum(ok.map((r) => r.list_cost_micro_usd)) },
    errors: rows.filter((r) => r.status === "error").map((r) => ({ problem_id: r.problem_id, sample: r.sample, status: r.error_status, error: r.error ?? "" })),
    undecided: ok.filter((r) => r.correct === null).map((r) => ({ problem_id: r.problem_id, sample: r.sample, extracted: r.extracted_answer, reference: r.reference })),
    simulator: input.simulator && {
      ...input.simulator,
      accuracy: input.simulator.oracle_correct / Math.max(1, input.simulator.oracle_correct + input.simulator.oracle_wrong),
    },
  };
}

/** The first K answered samples of a problem, in sample order. */
function okSamples(samples: readonly ResultRow[], k: number): ResultRow[] {
  return samples.filter((r) => r.status === "ok").sort((a, b) => a.sample - b.sample).slice(0, k);
}

function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { mean: 0, p50: 0, p95: 0, max: 0 };
  return { mean: round2(mean(values)), p50: round2(percentile(values, 50)), p95: round2(percentile(values, 95)), max: Math.max(...values) };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
