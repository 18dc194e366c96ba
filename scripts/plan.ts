/**
 * `npm run plan -- --rate R --answer-tokens DIST --profile P --p95-ttft S [options]`:
 * the capacity planner over the simulator's performance model
 * (scripts/plan/model.ts, derivation in gpu/sim/perf/profiles.md). Prints
 * the containers needed, their utilisation, cold-start waits and $ per
 * million output tokens at Modal's list prices (gpu/modal-prices.json) as a
 * table, then the same as JSON (`--json` prints only the JSON).
 *
 * Options:
 *   --rate R               arrivals: requests/s, or `N/min`, `N/h` (required)
 *   --answer-tokens DIST   exp:MEAN | fixed:N | uniform:MIN:MAX | lognormal:MEDIAN:SIGMA[:MIN:MAX] | limo (default limo)
 *   --prompt-tokens N      prompt length (default 200)
 *   --n N                  sequences per request, vLLM's `n` (default 1)
 *   --profile P            h200-bf16 | h100-fp8 (default h200-bf16)
 *   --p95-ttft S           p95 time-to-first-token target, seconds (required)
 *   --scale-down-window S  Modal scaledown_window, seconds (default 900)
 *   --min-containers K     Modal min_containers (default 0)
 *   --max-containers K     search limit (default 100)
 *   --snapshot             boot from a GPU memory snapshot (LIMO_GPU_SNAPSHOT=1)
 *   --boot-seconds S       override the profile's boot time
 *   --json                 JSON only
 */
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { gpuProfile } from "../gpu/sim/perf/profiles";
import { parseDistribution } from "./plan/distribution";
import { operatingPoint, plan, type PlanInput, type PlanResult } from "./plan/model";
import { loadModalPrices } from "./plan/prices";
import { formatTable } from "./soak-reconcile";

const OPTIONS = {
  rate: { type: "string" },
  "answer-tokens": { type: "string", default: "limo" },
  "prompt-tokens": { type: "string", default: "200" },
  n: { type: "string", default: "1" },
  profile: { type: "string", default: "h200-bf16" },
  "p95-ttft": { type: "string" },
  "scale-down-window": { type: "string", default: "900" },
  "min-containers": { type: "string", default: "0" },
  "max-containers": { type: "string", default: "100" },
  snapshot: { type: "boolean", default: false },
  "boot-seconds": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

/** `0.5`, `30/min`, `1800/h` -> requests per second. */
export function parseRate(raw: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[-+]?\d+)?)\s*(?:\/\s*(s|sec|min|h|hour))?\s*$/i.exec(raw);
  if (!m) throw new RangeError(`--rate ${JSON.stringify(raw)}: expected a number of requests per second, or N/min, N/h`);
  const value = Number(m[1]);
  const unit = (m[2] ?? "s").toLowerCase();
  return unit.startsWith("h") ? value / 3600 : unit === "min" ? value / 60 : value;
}

function number(name: string, raw: string | undefined, min: number, integer = false): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new RangeError(`--${name} must be ${integer ? "a whole number" : "a number"} >= ${min}, got ${raw ?? "nothing"}`);
  }
  return value;
}

/** Reads the command line into planner input. */
export function parsePlanArgs(argv: readonly string[]): { input: PlanInput; json: boolean } | { help: true } {
  const { values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true });
  if (values.help) return { help: true };
  if (values.rate === undefined) throw new RangeError("--rate is required (requests per second, or N/min, N/h)");
  return {
    json: values.json,
    input: {
      requestsPerSecond: parseRate(values.rate),
      answer: parseDistribution(values["answer-tokens"]),
      promptTokens: number("prompt-tokens", values["prompt-tokens"], 0, true),
      sequencesPerRequest: number("n", values.n, 1, true),
      profile: gpuProfile(values.profile),
      p95TtftSeconds: number("p95-ttft", values["p95-ttft"], 0),
      scaledownWindowSeconds: number("scale-down-window", values["scale-down-window"], 0),
      minContainers: number("min-containers", values["min-containers"], 0, true),
      maxContainers: number("max-containers", values["max-containers"], 1, true),
      snapshot: values.snapshot,
      bootSeconds: values["boot-seconds"] === undefined ? undefined : number("boot-seconds", values["boot-seconds"], 0),
      prices: loadModalPrices(),
    },
  };
}

/** Containers either side of the answer, to show how p95 TTFT and utilisation move with the fleet size. */
const SWEEP_BELOW = 2;
const SWEEP_ABOVE = 3;
/** Width of the utilisation bars in the text plot. */
const BAR_WIDTH = 40;

/** The report as plain JSON (rounded for people; the model's full precision stays in `plan()`). */
export function planReport(input: PlanInput, result: PlanResult) {
  const round = (x: number, digits = 4) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : null);
  const op = result.operating;
  return {
    inputs: {
      rate_per_second: input.requestsPerSecond,
      answer_tokens: input.answer.spec,
      answer_tokens_mean: round(input.answer.mean, 6),
      prompt_tokens: input.promptTokens,
      n: input.sequencesPerRequest,
      profile: input.profile.name,
      p95_ttft_target_seconds: input.p95TtftSeconds,
      scale_down_window_seconds: input.scaledownWindowSeconds,
      min_containers: input.minContainers,
      snapshot: input.snapshot,
    },
    per_container: {
      kv_capacity_tokens: result.perContainer.kvCapacityTokens,
      max_num_seqs: result.perContainer.maxNumSeqs,
      max_inputs: result.perContainer.maxInputs,
      target_inputs: result.perContainer.targetInputs,
    },
    containers_needed: result.containersNeeded,
    meets_target: result.meetsTarget,
    utilisation: op ? round(op.utilisation) : null,
    step_ms: op ? round(op.stepMs) : null,
    first_token_ms: op ? round(op.firstTokenMs) : null,
    p_wait: op ? round(op.pWait) : null,
    p95_queue_wait_seconds: op ? round(op.p95QueueWaitSeconds) : null,
    p95_ttft_seconds_warm: op ? round(op.p95TtftSeconds) : null,
    tokens_per_second_per_gpu: round(result.tokensPerSecondPerGpu),
    tokens_per_second_per_sequence: round(result.tokensPerSecondPerSequence),
    cold_start: {
      boot_seconds: result.cold.bootSeconds,
      p_cold_start: round(result.cold.pColdStart),
      expected_cold_wait_seconds: round(result.cold.expectedColdWaitSeconds),
      p95_ttft_seconds_with_cold: round(result.cold.p95TtftSecondsWithCold),
    },
    cost: {
      prices_as_of: result.cost.asOf,
      container_dollars_per_hour: round(result.cost.containerDollarsPerHour),
      containers_up_average: round(result.cost.containersUpAverage),
      boot_seconds_per_hour: round(result.cost.bootSecondsPerHour),
      dollars_per_hour: round(result.cost.dollarsPerHour),
      output_tokens_per_second: round(result.cost.outputTokensPerSecond),
      dollars_per_million_output_tokens: round(result.cost.dollarsPerMillionOutputTokens),
      always_on_dollars_per_million_output_tokens: round(result.cost.alwaysOnDollarsPerMillionOutputTokens),
    },
    sweep: sweep(input, result).map((op) => ({
      containers: op.containers,
      stable: op.stable,
      utilisation: round(op.utilisation),
      p95_ttft_seconds_warm: round(op.p95TtftSeconds),
    })),
  };
}

function sweep(input: PlanInput, result: PlanResult) {
  const centre = result.containersNeeded ?? input.maxContainers;
  const first = Math.max(1, input.minContainers, centre - SWEEP_BELOW);
  const last = Math.min(input.maxContainers, centre + SWEEP_ABOVE);
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => operatingPoint(input, first + i));
}

/** A text plot: one bar of utilisation per container count, with its p95 TTFT. */
function plot(report: ReturnType<typeof planReport>): string {
  const rows = report.sweep.map((r) => {
    const u = r.stable ? (r.utilisation ?? 1) : 1;
    const bar = "#".repeat(Math.round(u * BAR_WIDTH)).padEnd(BAR_WIDTH, ".");
    const mark = r.containers === report.containers_needed ? " <- needed" : "";
    const p95 = r.stable ? `p95 TTFT ${r.p95_ttft_seconds_warm} s` : "unstable";
    return `${String(r.containers).padStart(4)} containers |${bar}| ${r.stable ? `${Math.round(u * 100)} %` : "100 %"}, ${p95}${mark}`;
  });
  return ["utilisation and warm p95 TTFT by fleet size:", ...rows].join("\n");
}

function table(report: ReturnType<typeof planReport>): string {
  const show = (v: unknown) => (v === null ? "-" : String(v));
  const rows: [string, unknown][] = [
    ["profile", report.inputs.profile],
    ["arrivals (requests/s)", report.inputs.rate_per_second],
    ["answer tokens", `${report.inputs.answer_tokens}, mean ${report.inputs.answer_tokens_mean}`],
    ["KV capacity / max_num_seqs", `${report.per_container.kv_capacity_tokens} tokens / ${report.per_container.max_num_seqs}`],
    ["containers needed", report.containers_needed ?? "not reachable within --max-containers"],
    ["utilisation (sequence slots)", report.utilisation],
    ["decode step (ms)", report.step_ms],
    ["tokens/s per GPU / per sequence", `${report.tokens_per_second_per_gpu} / ${report.tokens_per_second_per_sequence}`],
    ["p95 queue wait (s)", report.p95_queue_wait_seconds],
    ["p95 TTFT warm (s)", report.p95_ttft_seconds_warm],
    ["P(cold start) / boot (s)", `${report.cold_start.p_cold_start} / ${report.cold_start.boot_seconds}`],
    ["p95 TTFT with cold starts (s)", report.cold_start.p95_ttft_seconds_with_cold],
    ["meets p95 target", `${report.meets_target} (target ${report.inputs.p95_ttft_target_seconds} s)`],
    ["containers up on average", report.cost.containers_up_average],
    ["$ per hour", report.cost.dollars_per_hour],
    ["$ per million output tokens", report.cost.dollars_per_million_output_tokens],
    ["$ per million, always on", report.cost.always_on_dollars_per_million_output_tokens],
    ["prices as of", report.cost.prices_as_of],
  ];
  return formatTable(["", "value"], rows.map(([k, v]) => [k, show(v)]));
}

function main(): void {
  let parsed: ReturnType<typeof parsePlanArgs>;
  try {
    parsed = parsePlanArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`plan: ${err instanceof Error ? err.message : String(err)} (see --help)`);
    process.exit(2);
  }
  if ("help" in parsed) {
    console.log("npm run plan -- --rate R --p95-ttft S [--answer-tokens DIST] [--profile P] [--prompt-tokens N] [--n N] [--scale-down-window S] [--min-containers K] [--max-containers K] [--snapshot] [--boot-seconds S] [--json]");
    return;
  }
  const report = planReport(parsed.input, plan(parsed.input));
  if (!parsed.json) console.log(`${table(report)}\n\n${plot(report)}\n`);
  console.log(JSON.stringify(report, null, 2));
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) main();
