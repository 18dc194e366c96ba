/**
 * @module report
 * Names every figure the benchmark reports and renders the results: the
 * medians per target, the gateway-over-floor ratios and the markdown table
 * for the README.
 */
import { LONG_ANSWER_MAX_TOKENS, STREAM_MAX_TOKENS, type Scenario } from "./scenarios";
import { median, overFloor, round } from "./stats";

export const TARGETS = ["sim", "floor", "metered", "gateway"] as const;
export type TargetName = (typeof TARGETS)[number];

export const TARGET_LABELS: Record<TargetName, string> = {
  sim: "simulator direct",
  floor: "floor (passthrough Worker)",
  metered: "metered floor (passthrough + one DO SQLite write)",
  gateway: "gateway",
};

export interface Figure {
  key: string;
  label: string;
  unit: string;
  higherIsBetter: boolean;
  /** Measured only for the Workers (CPU, bundle, start-up), not the simulator itself. */
  workersOnly: boolean;
}

/** Figures, in table order: each scenario's, then the Workers' own. */
export function figuresOf(scenarios: readonly Scenario[]): Figure[] {
  const figures: Figure[] = [];
  const add = (key: string, label: string, unit: string, higherIsBetter = false, workersOnly = false) =>
    figures.push({ key, label, unit, higherIsBetter, workersOnly });
  for (const s of scenarios) {
    if (s.stream) {
      add(`${s.id}_ttfb_ms`, `${s.title}: time to first byte, p50 (c=1)`, "ms");
      if (!s.cached) {
        add(`${s.id}_wait_admission_ms`, `${s.title}: of which the admission call (gateway's Server-Timing)`, "ms", false, true);
        add(`${s.id}_wait_generation_start_ms`, `${s.title}: of which the generation object's start and the backend's answer (Server-Timing)`, "ms", false, true);
        add(`${s.id}_wait_backend_choice_ms`, `${s.title}: of which, in the object, until a backend was chosen (Server-Timing)`, "ms", false, true);
        add(`${s.id}_wait_backend_answer_ms`, `${s.title}: of which, in the object, the backend's answer (Server-Timing)`, "ms", false, true);
      }
      add(`${s.id}_total_ms`, `${s.title}: total time, p50 (c=1)`, "ms");
      add(`${s.id}_rps`, `${s.title}: throughput (c=${s.concurrency})`, "streams/s", true);
      add(s.cpuKey, `${s.title}: Worker CPU per relayed chunk`, "µs", false, true);
    } else {
      add(`${s.id}_p50_ms`, `${s.title}: latency p50 (c=1)`, "ms");
      add(`${s.id}_p99_ms`, `${s.title}: latency p99 (c=1)`, "ms");
      add(`${s.id}_rps`, `${s.title}: throughput (c=${s.concurrency})`, "req/s", true);
      add(s.cpuKey, `${s.title}: Worker CPU per request`, "µs", false, true);
    }
  }
  const has = (id: string) => scenarios.some((s) => s.id === id);
  if (has("stream") && has("long_nonstream")) {
    add("long_nonstream_cpu_per_token_us", `non-streaming, ${STREAM_MAX_TOKENS} tokens: Worker CPU per token`, "µs", false, true);
    add(
      "stream_extra_cpu_per_chunk_us",
      `streaming minus non-streaming, ${STREAM_MAX_TOKENS} tokens: Worker CPU per chunk (gateway: the generation Durable Object relay)`,
      "µs",
      false,
      true,
    );
  }
  if (has("long_nonstream") && has("long_nonstream_streamed")) {
    add(
      "long_nonstream_streamed_cpu_per_token_us",
      `non-streaming, ${STREAM_MAX_TOKENS} tokens, the floor reading the backend's stream whole: Worker CPU per token`,
      "µs",
      false,
      true,
    );
    add(
      "json_cpu_per_token_over_streamed_floor",
      `non-streaming, ${STREAM_MAX_TOKENS} tokens: the gateway's CPU per token over the floor reading the stream whole (its JSON path's own floor)`,
      "×",
      false,
      true,
    );
  }
  if (has("long_answer")) {
    add("long_answer_cpu_per_token_us", `non-streaming, ${LONG_ANSWER_MAX_TOKENS} tokens: Worker CPU per token`, "µs", false, true);
  }
  if (has("admission_unlimited") && has("admission_limited")) {
    add("admission_limits_cpu_us", "admission: limited minus unlimited account, Worker CPU per request", "µs", false, true);
    add("admission_limits_p50_us", "admission: limited minus unlimited account, latency p50 (c=1)", "µs", false, true);
    add("admission_limited_over_unlimited_cpu", "admission: limited / unlimited account, Worker CPU per request", "×", false, true);
    add("admission_unlimited_over_limited_rps", "admission: unlimited / limited account, throughput (c=32)", "×", false, true);
  }
  if (has("admission_limited") && has("admission_end_users")) {
    add("admission_end_user_limits_cpu_us", "admission: per-end-user limits added (end users minus limited account), Worker CPU per request", "µs", false, true);
  }
  add("bundle_gzip_kib", "bundle, gzipped", "KiB", false, true);
  add("startup_ms", "start-up: workerd boot to listening, Worker loaded", "ms", false, true);
  add("startup_empty_ms", "start-up of an empty module with the same wrangler config (the bindings' share)", "ms", false, true);
  add("startup_own_ms", "start-up: the Worker's own share (its start-up minus the empty module's, per trial)", "ms", false, true);
  add("first_request_ms", "first request after start-up", "ms", false, true);
  return figures;
}

export type FigureValues = Partial<Record<string, number>>;
export type TargetFigures = Record<TargetName, FigureValues>;

/**
 * Adds one round's derived figures, from figures measured in that same round
 * (differences and ratios of phases run back to back, so a load that changes
 * between rounds cancels out): the extra CPU per chunk of a stream over the
 * same answer as JSON, the gateway's JSON path over the floor reading the
 * same stream whole, and what an account's limits add to admission.
 */
export function deriveFigures(round: TargetFigures): void {
  for (const target of ["floor", "metered", "gateway"] as const) {
    const f = round[target];
    const longCpu = f.long_nonstream_cpu_per_request_us;
    if (longCpu !== undefined) f.long_nonstream_cpu_per_token_us = longCpu / STREAM_MAX_TOKENS;
    if (f.long_answer_cpu_per_request_us !== undefined) f.long_answer_cpu_per_token_us = f.long_answer_cpu_per_request_us / LONG_ANSWER_MAX_TOKENS;
    if (longCpu !== undefined && f.stream_cpu_per_request_us !== undefined) {
      // Per SSE event the stream relayed (one per token at vLLM's default stream interval, fewer above it).
      f.stream_extra_cpu_per_chunk_us = (f.stream_cpu_per_request_us - longCpu) / (f.stream_events ?? STREAM_MAX_TOKENS);
    }
  }
  const streamedFloor = round.floor.long_nonstream_streamed_cpu_per_request_us;
  if (streamedFloor !== undefined) {
    round.floor.long_nonstream_streamed_cpu_per_token_us = streamedFloor / STREAM_MAX_TOKENS;
    const gatewayLong = round.gateway.long_nonstream_cpu_per_request_us;
    if (gatewayLong !== undefined) round.gateway.json_cpu_per_token_over_streamed_floor = gatewayLong / streamedFloor;
  }
  const g = round.gateway;
  const [unlimitedCpu, limitedCpu] = [g.admission_unlimited_cpu_per_request_us, g.admission_limited_cpu_per_request_us];
  if (unlimitedCpu !== undefined && limitedCpu !== undefined) {
    g.admission_limits_cpu_us = limitedCpu - unlimitedCpu;
    g.admission_limited_over_unlimited_cpu = limitedCpu / unlimitedCpu;
  }
  if (limitedCpu !== undefined && g.admission_end_users_cpu_per_request_us !== undefined) {
    g.admission_end_user_limits_cpu_us = g.admission_end_users_cpu_per_request_us - limitedCpu;
  }
  if (g.admission_unlimited_p50_ms !== undefined && g.admission_limited_p50_ms !== undefined) {
    g.admission_limits_p50_us = (g.admission_limited_p50_ms - g.admission_unlimited_p50_ms) * 1000;
  }
  if (g.admission_unlimited_rps !== undefined && g.admission_limited_rps !== undefined) {
    g.admission_unlimited_over_limited_rps = g.admission_unlimited_rps / g.admission_limited_rps;
  }
}

/** The median of each figure over the rounds that measured it. */
export function mediansOf(rounds: readonly TargetFigures[]): TargetFigures {
  const out = { sim: {}, floor: {}, metered: {}, gateway: {} } as TargetFigures;
  for (const target of TARGETS) {
    const keys = new Set(rounds.flatMap((r) => Object.keys(r[target])));
    for (const key of keys) {
      const values = rounds.map((r) => r[target][key]).filter((v): v is number => v !== undefined);
      out[target][key] = median(values);
    }
  }
  return out;
}

/**
 * gateway / floor for every figure both have (floor / gateway for throughput):
 * higher is worse everywhere. `floor` is the bare passthrough or the metered one.
 */
export function ratiosOf(
  figures: readonly Figure[],
  medians: TargetFigures,
  floor: "floor" | "metered" = "floor",
): Record<string, number | null> {
  const ratios: Record<string, number | null> = {};
  for (const f of figures) {
    const ratio = overFloor(medians.gateway[f.key], medians[floor][f.key], f.higherIsBetter);
    ratios[f.key] = ratio === null ? null : round(ratio);
  }
  return ratios;
}

/** The markdown table: one row per figure, one column per target, then the ratios to both floors. */
export function markdownTable(
  figures: readonly Figure[],
  medians: TargetFigures,
  ratios: Record<string, number | null>,
  meteredRatios: Record<string, number | null>,
): string {
  const cell = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "–" : String(round(v)));
  const times = (r: number | null | undefined) => (r === null || r === undefined ? "–" : `${r}×`);
  const lines = [
    `| figure | ${TARGETS.map((t) => TARGET_LABELS[t]).join(" | ")} | gateway / floor | gateway / metered floor |`,
    `| --- | ${TARGETS.map(() => "---:").join(" | ")} | ---: | ---: |`,
  ];
  for (const f of figures) {
    const values = TARGETS.map((t) => cell(medians[t][f.key]));
    lines.push(`| ${f.label} (${f.unit}) | ${values.join(" | ")} | ${times(ratios[f.key])} | ${times(meteredRatios[f.key])} |`);
  }
  return lines.join("\n");
}
