/**
 * @module fleet
 * `npm run fleet`: the routing policies compared on a simulated GPU fleet,
 * over loopback. K simulated Modal deployments of vLLM (`startSimFleet`, the
 * `h200-bf16` profile, one container each) behind the gateway in raw workerd
 * (as `npm run bench` runs it), a tutoring trace (scripts/fleet/trace) at a
 * share of the fleet's capacity, replayed under each ROUTING_POLICY in turn
 * with a fresh fleet and gateway each. Prints a table and writes JSON and an
 * SVG of the TTFT CDFs, with ratios against round robin.
 *
 *   npm run fleet -- [--load 0.8] [--requests 1200] [--deployments 3] [--time-scale 2]
 *                    [--policies round-robin,least-loaded,load-aware] [--seed 17] [--out fleet-results]
 *
 * Capacity: a container holds about KV_HOLD_FRACTION of its (scaled) KV in
 * answers at once; each sequence decodes at the profile's step time at that
 * batch. Times in the report are simulated seconds.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildWorker } from "../bench/workers";
import { stepMs } from "../gpu/sim/perf/arithmetic";
import { GPU_PROFILES } from "../gpu/sim/perf/profiles";
import { loadModalPrices } from "./plan/prices";
import { cdfSvg, figuresOf, quantile, ratiosOf, table, tailTable } from "./fleet/report";
import { modelWaits } from "./fleet/queue-model";
import { kvTokensAt, runPolicy, type FleetSetup } from "./fleet/run-policy";
import { LENGTH_DIVISOR, makeTrace, meanAnswerLength, N_SAMPLES } from "./fleet/trace";

/** vLLM's --max-num-seqs per container here: above the 7 full-length answers the KV holds, as a deployment without the derived setting. */
const MAX_NUM_SEQS = 12;
/** Share of requests with n = N_SAMPLES, and share repeating a deterministic question. */
const N_SHARE = 0.1;
const REPEAT_SHARE = 0.1;
const PROMPT_TOKENS = 40;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      load: { type: "string", default: "0.8" },
      requests: { type: "string", default: "1200" },
      deployments: { type: "string", default: "3" },
      "time-scale": { type: "string", default: "2" },
      policies: { type: "string", default: "round-robin,least-loaded,load-aware" },
      seed: { type: "string", default: "17" },
      out: { type: "string", default: "fleet-results" },
    },
  });
  const load = Number(values.load);
  const deployments = Number(values.deployments);
  const timeScale = Number(values["time-scale"]);
  const policies = values.policies.split(",").map((p) => p.trim());
  const profile = GPU_PROFILES["h200-bf16"];
  // The scaled KV cache: the profile's at 0.90, divided by LENGTH_DIVISOR (7 full-length answers still fit).
  const targetKv = kvTokensAt(profile.gpuMemoryUtilization) / LENGTH_DIVISOR;
  const kvBytes = targetKv * 256 * 1024;
  const gpuMemoryUtilization = (profile.weightBytes + profile.nonKvOverheadBytes + kvBytes + 16 * 256 * 1024) / profile.gpuMemoryBytes;
  const meanAnswer = meanAnswerLength();
  const seqsPerContainer = Math.min(MAX_NUM_SEQS, Math.floor((0.9 * kvTokensAt(gpuMemoryUtilization)) / (meanAnswer + PROMPT_TOKENS)));
  const step = stepMs(profile, { decodeSequences: seqsPerContainer, contextTokens: seqsPerContainer * (PROMPT_TOKENS + meanAnswer / 2), prefillTokens: 0 });
  const serviceSeconds = (meanAnswer * step) / 1000;
  const sequencesPerRequest = 1 + N_SHARE * (N_SAMPLES - 1);
  const capacity = (deployments * seqsPerContainer) / serviceSeconds / sequencesPerRequest;
  const rate = load * capacity;
  const trace = makeTrace({ requests: Number(values.requests), rate, nShare: N_SHARE, repeatShare: REPEAT_SHARE, seed: Number(values.seed) });
  const setup: FleetSetup = { deployments, timeScale, maxNumSeqs: MAX_NUM_SEQS, gpuMemoryUtilization, expectedAnswerTokens: Math.round(meanAnswer), decodeTokensPerSecond: 1000 / step };
  console.log(
    `fleet: ${deployments} x h200-bf16 (1 container each, KV ${kvTokensAt(gpuMemoryUtilization)} tokens = LIMO's / ${LENGTH_DIVISOR}, --max-num-seqs ${MAX_NUM_SEQS}), ` +
      `capacity ~${capacity.toFixed(3)} req/s (${seqsPerContainer} answers a container, ${serviceSeconds.toFixed(1)} s each), load ${load}: ${rate.toFixed(3)} req/s, ` +
      `${trace.length} requests over ${trace.at(-1)!.at.toFixed(0)} simulated s, time scale ${timeScale}`,
  );
  const work = mkdtempSync(join(tmpdir(), "limo-fleet-"));
  const bundle = await buildWorker(join(import.meta.dirname, "..", "wrangler.toml"), join(work, "gateway"));
  const prices = loadModalPrices();
  const usdPerGpuSecond =
    prices.gpu_per_second.H200!.price + prices.container.cpu_cores * prices.cpu_core_per_second.price + prices.container.memory_gib * prices.memory_gib_per_second.price;
  const runs = [];
  for (const policy of policies) {
    const began = Date.now();
    const show = (done: number) =>
      process.stderr.write(`\r${policy.padEnd(13)} ${String(done).padStart(4)}/${trace.length} requests answered, ${((Date.now() - began) / 1000).toFixed(0)} s`);
    show(0);
    runs.push(await runPolicy(policy, trace, setup, bundle, work, show));
    process.stderr.write("\n");
  }
  const figures = runs.map((r) => figuresOf(r, deployments, usdPerGpuSecond));
  const model = queueModelOf(trace, { servers: deployments, slots: MAX_NUM_SEQS, stepSeconds: step / 1000 });
  const ratios = ratiosOf(figures);
  console.log(`\n${table(figures, ratios)}\n\nWhere the slowest 5 % of first tokens waited (mean simulated seconds):\n\n${tailTable(figures)}\n\n` +
      `The same trace through a plain queueing model (no gateway, no KV limit; scripts/fleet/queue-model): TTFT p95 ${model.round_robin_p95_s.toFixed(2)} s ` +
      `under round robin, ${model.pooled_p95_s.p10.toFixed(2)}-${model.pooled_p95_s.p90.toFixed(2)} s (median ${model.pooled_p95_s.median.toFixed(2)}) ` +
      `with ideal pooled dispatch over ${MODEL_TIE_SEEDS} tie-break seeds: ` +
      (model.pooled_p95_s.median > 0
        ? `a ratio of ${(model.round_robin_p95_s / model.pooled_p95_s.median).toFixed(1)}x is what pooling is worth on it.\n`
        : `pooling leaves no wait at p95 on it.\n`));
  mkdirSync(values.out, { recursive: true });
  const json = { setup: { ...setup, load, rate_per_second: rate, capacity_per_second: capacity, requests: trace.length, length_divisor: LENGTH_DIVISOR, seed: Number(values.seed), prices_as_of: prices.as_of }, figures, ratios_vs_round_robin: ratios, queue_model: model, requests: Object.fromEntries(runs.map((r) => [r.policy, r.results])) };
  writeFileSync(join(values.out, "fleet.json"), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(values.out, "ttft-cdf.svg"), cdfSvg(runs));
  console.log(`wrote ${join(values.out, "fleet.json")} and ${join(values.out, "ttft-cdf.svg")}`);
}

/** Tie-break seeds the pooled model is run over (its p95 depends on which equally free backend gets a request). */
const MODEL_TIE_SEEDS = 50;

/** The queueing model's p95 TTFT for the trace: round robin, and pooled dispatch's spread over tie-break seeds. */
function queueModelOf(trace: Parameters<typeof modelWaits>[0], setup: Parameters<typeof modelWaits>[1]) {
  const p95 = (waits: number[]) => quantile([...waits].sort((a, b) => a - b), 0.95)!;
  const pooled = Array.from({ length: MODEL_TIE_SEEDS }, (_, i) => p95(modelWaits(trace, setup, "pooled", i + 1))).sort((a, b) => a - b);
  return {
    round_robin_p95_s: p95(modelWaits(trace, setup, "round-robin")),
    pooled_p95_s: { p10: quantile(pooled, 0.1)!, median: quantile(pooled, 0.5)!, p90: quantile(pooled, 0.9)! },
  };
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
