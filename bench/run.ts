/**
 * @module run
 * `npm run bench [-- --quick] [--out FILE] [--scenario ID] [--gateway-config PATH] [--bundle CONFIG]`:
 * starts the simulator, builds and starts the floor (a bare passthrough
 * Worker), the metered floor (the passthrough plus one Durable Object SQLite
 * write per request) and the gateway in their own workerd processes, then
 * measures them side by side. Every phase
 * runs against each target back to back, in an order that rotates each
 * round; the figures are medians over the rounds. Writes FILE (JSON) and
 * FILE.md (the table), and prints the table. See bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";
import { sequential, throughput, type Timed } from "./load";
import { cpuTimeMs, machineTicks, treeCpuTicks } from "./proc";
import type { HostSpec, StartupSample } from "./worker-host";
import { createBenchKeys, type BenchKeys } from "./accounts";
import { answerWorkerRows, answerWorkers, answerWorkersSummary, markdownRows } from "./answers";
import {
  deriveFigures,
  figuresOf,
  markdownTable,
  mediansOf,
  ratiosOf,
  TARGET_LABELS,
  TARGETS,
  type TargetFigures,
  type TargetName,
} from "./report";
import { FULL, LONGEST_ANSWER, QUICK, SCENARIOS, phaseCount, type Effort, type Scenario } from "./scenarios";
import { median, percentile, round } from "./stats";
import { VLLM_STREAM_INTERVAL } from "../shared/constants";
import {
  BENCH_ADMIN_TOKEN,
  BENCH_API_KEY,
  buildWorker,
  gatewayBindings,
  startSim,
  ROOT,
  startWorker,
  timeColdStarts,
  writeEmptyWorker,
  writeMeteredFloorConfig,
  writePassthroughConfig,
  type Bundle,
  type RunningWorker,
} from "./workers";

const GATEWAY_CONFIG = join(ROOT, "wrangler.toml");
const DEFAULT_OUT = join(ROOT, "bench", "results", "latest.json");

interface Target {
  name: TargetName;
  url: string;
  /** The workerd process to charge CPU to; null for the simulator itself. */
  workerdPid: number | null;
}

interface Context {
  effort: Effort;
  scenarios: readonly Scenario[];
  simPid: number;
  simUrl: string;
  targets: Target[];
  keys: BenchKeys;
}

/** Rotates the targets each round so no target always runs first (or right after another). */
function orderFor(round: number, targets: readonly Target[]): Target[] {
  const k = round % targets.length;
  return [...targets.slice(k), ...targets.slice(0, k)];
}

function checkAll(scenario: Scenario, target: Target, responses: readonly Timed[]): void {
  for (const response of responses) {
    const problem = scenario.check(response, target.name);
    if (problem) throw new Error(`${scenario.id} via ${target.name}: ${problem}`);
  }
}

/** Generation requests the simulator has received so far. */
async function simRequests(simUrl: string): Promise<number> {
  const res = await fetch(`${simUrl}/sim/stats`);
  if (!res.ok) throw new Error(`simulator stats: HTTP ${res.status}`);
  return ((await res.json()) as { requests_total: number }).requests_total;
}

/**
 * Runs one phase; for a cache row against the gateway, also proves that the
 * cache answered every request: the simulator saw none during the phase.
 */
async function untouchedSimIfCached<T>(ctx: Context, scenario: Scenario, target: Target, phase: () => Promise<T>): Promise<T> {
  if (!scenario.cached || target.name !== "gateway") return phase();
  const before = await simRequests(ctx.simUrl);
  const result = await phase();
  const reached = (await simRequests(ctx.simUrl)) - before;
  if (reached !== 0) throw new Error(`${scenario.id} via gateway: ${reached} requests reached the simulator; every one should have been a cache hit`);
  return result;
}

function requestOf(ctx: Context, scenario: Scenario) {
  return scenario.request(ctx.keys[scenario.key]);
}

/** Concurrency 1: latency (or time to first byte and total), and SSE events per response. */
async function latencyPhase(ctx: Context, scenario: Scenario, target: Target, count: number): Promise<Record<string, number>> {
  const responses = await untouchedSimIfCached(ctx, scenario, target, () => sequential(target.url, requestOf(ctx, scenario), count));
  checkAll(scenario, target, responses);
  const totals = responses.map((r) => r.totalMs);
  const events = median(responses.map((r) => r.events));
  const timings = serverTimings(responses);
  if (scenario.stream) {
    return {
      ...timings(scenario.id),
      [`${scenario.id}_ttfb_ms`]: percentile(responses.map((r) => r.ttfbMs), 50),
      [`${scenario.id}_total_ms`]: percentile(totals, 50),
      [`${scenario.id}_total_p99_ms`]: percentile(totals, 99),
      [`${scenario.id}_events`]: events,
    };
  }
  return { [`${scenario.id}_p50_ms`]: percentile(totals, 50), [`${scenario.id}_p99_ms`]: percentile(totals, 99) };
}

/**
 * The medians of each Server-Timing entry the responses carry (the gateway's
 * waits before its first byte: `admission`, `generation-start`), as
 * `<id>_wait_<name>_ms`.
 */
function serverTimings(responses: readonly Timed[]): (id: string) => Record<string, number> {
  const byName = new Map<string, number[]>();
  for (const r of responses) {
    for (const entry of (r.headers["server-timing"] ?? "").split(",")) {
      const match = /^\s*([\w-]+);dur=([\d.]+)\s*$/.exec(entry);
      if (match) byName.set(match[1]!, [...(byName.get(match[1]!) ?? []), Number(match[2])]);
    }
  }
  return (id) => Object.fromEntries([...byName].map(([name, values]) => [`${id}_wait_${name.replaceAll("-", "_")}_ms`, median(values)]));
}

/** Concurrency N with autocannon: throughput, and the CPU the Worker's workerd and the simulator spent on it. */
async function throughputPhase(
  ctx: Context,
  scenario: Scenario,
  target: Target,
  amount: number,
  eventsPerResponse: number,
): Promise<Record<string, number>> {
  const workerBefore = target.workerdPid === null ? 0 : cpuTimeMs(target.workerdPid);
  const simBefore = cpuTimeMs(ctx.simPid);
  const result = await untouchedSimIfCached(ctx, scenario, target, () =>
    throughput(target.url, requestOf(ctx, scenario), scenario.concurrency, amount),
  );
  const simCpuMs = cpuTimeMs(ctx.simPid) - simBefore;
  const figures: Record<string, number> = {
    [`${scenario.id}_rps`]: result.rps,
    [`${scenario.id}_sim_cpu_per_request_us`]: (simCpuMs * 1000) / result.completed,
  };
  if (target.workerdPid !== null) {
    const perRequestUs = ((cpuTimeMs(target.workerdPid) - workerBefore) * 1000) / result.completed;
    if (!scenario.stream) figures[scenario.cpuKey] = perRequestUs;
    else {
      figures[`${scenario.id}_cpu_per_request_us`] = perRequestUs;
      figures[scenario.cpuKey] = perRequestUs / eventsPerResponse;
    }
  }
  return figures;
}

/** Fewest requests a sequential phase sends when the target is slow: p99 needs some. */
const MIN_SEQUENTIAL = 20;

/**
 * Runs every scenario once against every target. The warm-up runs at `share`
 * of the counts; later rounds size each phase from what the warm-up measured.
 */
async function runRound(ctx: Context, round: number, share: number, warm?: TargetFigures): Promise<TargetFigures> {
  const out: TargetFigures = { sim: {}, floor: {}, metered: {}, gateway: {} };
  const order = orderFor(round, ctx.targets);
  const effort = { ...ctx.effort, scale: ctx.effort.scale * share };
  for (const scenario of ctx.scenarios) {
    const latencyKey = scenario.stream ? `${scenario.id}_total_ms` : `${scenario.id}_p50_ms`;
    const targets = order.filter((t) => scenario.targets.includes(t.name));
    for (const target of targets) {
      const msPerRequest = warm?.[target.name][latencyKey];
      const min = Math.min(MIN_SEQUENTIAL, Math.round(scenario.sequential * effort.scale));
      const count = phaseCount(scenario.sequential, effort, min, msPerRequest && msPerRequest / 1000);
      out[target.name][`${scenario.id}_sequential_n`] = count;
      Object.assign(out[target.name], await latencyPhase(ctx, scenario, target, count));
    }
    for (const target of targets) {
      const events = out[target.name][`${scenario.id}_events`] ?? 1;
      const rps = warm?.[target.name][`${scenario.id}_rps`];
      // Each connection sends at least two requests, so the phase runs at full concurrency.
      const amount = phaseCount(scenario.amount, effort, scenario.concurrency * 2, rps && 1 / rps);
      out[target.name][`${scenario.id}_throughput_n`] = amount;
      Object.assign(out[target.name], await throughputPhase(ctx, scenario, target, amount, events));
    }
  }
  deriveFigures(out);
  return out;
}

/**
 * Fills the gateway's response cache for every cache row before the warm-up:
 * the first request must be a MISS (it reaches the simulator), the next a HIT
 * (it does not). Returns what each answered, for the results.
 */
async function primeCache(ctx: Context): Promise<Record<string, string[]>> {
  const gateway = ctx.targets.find((t) => t.name === "gateway")!;
  const verdicts: Record<string, string[]> = {};
  for (const scenario of ctx.scenarios.filter((s) => s.cached)) {
    const seen: string[] = [];
    const [first] = await sequential(gateway.url, requestOf(ctx, scenario), 1);
    seen.push(first!.headers["x-cache"] ?? "none");
    if (seen[0] !== "MISS") throw new Error(`${scenario.id}: the first request answered x-cache ${seen[0]}, expected MISS`);
    // The entry is written when the generation ends, just after the last byte: allow it a moment.
    for (let attempt = 0; attempt < 20 && seen.at(-1) !== "HIT"; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      const before = await simRequests(ctx.simUrl);
      const [next] = await sequential(gateway.url, requestOf(ctx, scenario), 1);
      seen.push(next!.headers["x-cache"] ?? "none");
      if (seen.at(-1) === "HIT" && (await simRequests(ctx.simUrl)) !== before) {
        throw new Error(`${scenario.id}: a HIT reached the simulator`);
      }
    }
    if (seen.at(-1) !== "HIT") throw new Error(`${scenario.id}: never answered x-cache HIT after its MISS (${seen.join(", ")})`);
    verdicts[scenario.id] = seen;
  }
  return verdicts;
}

type WorkerName = "floor" | "metered" | "gateway";
const WORKER_NAMES = ["floor", "metered", "gateway"] as const;

/** Builds both Workers and starts each in its own workerd, one after the other so their cold starts do not overlap. */
async function startWorkers(
  simUrl: string,
  gatewayConfig: string,
  effort: Effort,
  work: string,
  stops: (() => Promise<void>)[],
): Promise<{
  bundles: Record<WorkerName, Bundle>;
  workers: Record<WorkerName, RunningWorker>;
  startup: Record<WorkerName, StartupSample[]>;
  startupEmpty: Record<WorkerName, StartupSample[]>;
}> {
  log("building the floor, the metered floor and the gateway (wrangler deploy --dry-run)");
  const configs = {
    floor: writePassthroughConfig(gatewayConfig, work),
    metered: writeMeteredFloorConfig(gatewayConfig, work),
    gateway: gatewayConfig,
  };
  const bundles = {
    floor: await buildWorker(configs.floor, join(work, "floor")),
    metered: await buildWorker(configs.metered, join(work, "metered")),
    gateway: await buildWorker(configs.gateway, join(work, "gateway")),
  };
  const bindings: Record<WorkerName, Record<string, string>> = {
    floor: { UPSTREAM: simUrl },
    metered: { UPSTREAM: simUrl },
    gateway: gatewayBindings(simUrl),
  };
  const specs = Object.fromEntries(
    WORKER_NAMES.map((name) => [
      name,
      {
        configPath: configs[name],
        scriptPath: bundles[name].scriptPath,
        bindings: bindings[name],
        // A cold start is timed to its first real request.
        probe: SCENARIOS[0]!.request(BENCH_API_KEY),
      },
    ]),
  ) as Record<WorkerName, Omit<HostSpec, "keepRunning" | "startupTrials">>;
  // Each Worker's config again with a module that does nothing: the bindings' share of its start-up.
  const emptySpecs = Object.fromEntries(
    WORKER_NAMES.map((name) => [
      name,
      { ...specs[name], scriptPath: writeEmptyWorker(configs[name], join(work, `${name}-empty`)), probe: { path: "/", method: "GET", headers: {} } },
    ]),
  ) as typeof specs;
  log(`timing ${effort.startupTrials} cold starts of each Worker, and of an empty module with its config, interleaved`);
  const startup: Record<WorkerName, StartupSample[]> = { floor: [], metered: [], gateway: [] };
  const startupEmpty: Record<WorkerName, StartupSample[]> = { floor: [], metered: [], gateway: [] };
  for (let trial = 0; trial < effort.startupTrials; trial++) {
    // Rotated like the rounds, so no Worker always starts first.
    const k = trial % WORKER_NAMES.length;
    for (const name of [...WORKER_NAMES.slice(k), ...WORKER_NAMES.slice(0, k)]) {
      startup[name].push(...(await timeColdStarts({ ...specs[name], startupTrials: 1 }, join(work, `${name}-trial.json`))));
      startupEmpty[name].push(...(await timeColdStarts({ ...emptySpecs[name], startupTrials: 1 }, join(work, `${name}-empty-trial.json`))));
    }
  }
  const workers = {} as Record<WorkerName, RunningWorker>;
  for (const name of WORKER_NAMES) {
    log(`starting the ${name} in workerd`);
    workers[name] = await startWorker(specs[name], join(work, `${name}-host.json`));
    stops.push(workers[name].stop);
  }
  return { bundles, workers, startup, startupEmpty };
}

/** How busy the machine was over one round: all of it, and what was not the benchmark's own processes. */
interface MachineLoad {
  /** Cores' worth of busy CPU over the round (from /proc/stat). */
  busy_cores: number;
  /** Of which, not the benchmark (this process, the simulator, the Worker hosts and their workerd): other work. */
  other_cores: number;
  load_average_1m: number;
}

function startLoadSample(): { end(): MachineLoad } {
  const machineBefore = machineTicks();
  const oursBefore = treeCpuTicks(process.pid);
  return {
    end() {
      const machine = machineTicks();
      const ours = treeCpuTicks(process.pid) - oursBefore;
      const total = machine.total - machineBefore.total;
      const busy = machine.busy - machineBefore.busy;
      const cores = cpus().length;
      return {
        busy_cores: round((busy / total) * cores),
        other_cores: round((Math.max(0, busy - ours) / total) * cores),
        load_average_1m: round(loadavg()[0]!),
      };
    },
  };
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

function machine(): { cpu: string; cores: number; node: string; wrangler: string; miniflare: string; workerd: string } {
  const require = createRequire(import.meta.url);
  const miniflare = require.resolve("miniflare/package.json");
  const version = (path: string) => (require(path) as { version: string }).version;
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    node: process.version,
    wrangler: version("wrangler/package.json"),
    miniflare: version(miniflare),
    workerd: version(createRequire(miniflare).resolve("workerd/package.json")),
  };
}

/** A Worker's name in its wrangler config, or the config's file name. */
function workerNameOf(configPath: string): string {
  return unstable_readConfig({ config: configPath }, { hideWarnings: true }).name ?? configPath;
}

/** Every Worker's bundle: gzipped size and its three largest origins. */
function bundlesTable(bundles: Record<string, Bundle>): string {
  const kib = (bytes: number) => round(bytes / 1024);
  const lines = ["| Worker bundle | bytes | gzipped (KiB) | largest origins (KiB, before gzip) |", "| --- | ---: | ---: | --- |"];
  for (const [name, b] of Object.entries(bundles)) {
    const largest = b.breakdown.slice(0, 4).map((o) => `${o.origin} ${kib(o.bytes)}`).join(", ");
    lines.push(`| ${name} | ${b.bytes} | ${kib(b.gzipBytes)} | ${largest} |`);
  }
  return lines.join("\n");
}

function bundleSummary(bundle: Bundle): Record<string, unknown> {
  return { bytes: bundle.bytes, gzip_bytes: bundle.gzipBytes, largest_origins: bundle.breakdown.slice(0, 12) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      scenario: { type: "string", multiple: true },
      "gateway-config": { type: "string" },
      // vLLM's --stream-interval for the simulator (every target alike): the deployment's by default.
      "stream-interval": { type: "string", default: String(VLLM_STREAM_INTERVAL) },
      // More Workers to bundle and size (e.g. a Worker behind a service binding): not run.
      bundle: { type: "string", multiple: true },
    },
  });
  const gatewayConfig = resolve(values["gateway-config"] ?? GATEWAY_CONFIG);
  const scenarios = values.scenario ? SCENARIOS.filter((s) => values.scenario!.includes(s.id)) : SCENARIOS;
  if (scenarios.length === 0) {
    throw new Error(`no such scenario: ${values.scenario!.join(", ")} (there are ${SCENARIOS.map((s) => s.id).join(", ")})`);
  }
  const effort = values.quick ? QUICK : FULL;
  // The simulator's host reads SIM_* from this environment (bench/sim-host.ts): a pace set there is reported.
  const pace = Number(process.env.SIM_TOKENS_PER_SECOND ?? 0) || 0;
  const streamInterval = Number(values["stream-interval"]);
  if (!Number.isInteger(streamInterval) || streamInterval < 1) throw new Error(`--stream-interval must be a whole number >= 1, got ${values["stream-interval"]}`);
  const outPath = resolve(values.out ?? DEFAULT_OUT);
  const startedAt = new Date();
  // Other work on the machine skews every figure: the load averages go into the results.
  const loadAtStart = loadavg()[0]!;
  if (loadAtStart > 0.5) log(`the machine is busy (load average ${loadAtStart.toFixed(2)}): figures will be noisier`);
  const work = mkdtempSync(join(tmpdir(), "limo-bench-"));
  const stops: (() => Promise<void>)[] = [];
  try {
    const sim = await startSim(streamInterval);
    stops.push(sim.stop);
    log(`simulator at ${sim.url}, stream interval ${streamInterval}`);

    const { bundles, workers, startup, startupEmpty } = await startWorkers(sim.url, gatewayConfig, effort, work, stops);

    const needsKeys = scenarios.some((s) => s.key !== "dev");
    if (needsKeys) log("making the admission rows' accounts and live keys through the admin API");
    const keys = needsKeys
      ? await createBenchKeys(workers.gateway.url, BENCH_ADMIN_TOKEN, BENCH_API_KEY)
      : { dev: BENCH_API_KEY, unlimited: BENCH_API_KEY, limited: BENCH_API_KEY, students: BENCH_API_KEY, accounts: {} };
    const ctx: Context = {
      effort,
      scenarios,
      simPid: sim.pid,
      simUrl: sim.url,
      keys,
      targets: [
        { name: "sim", url: sim.url, workerdPid: null },
        { name: "floor", url: workers.floor.url, workerdPid: workers.floor.pid },
        { name: "metered", url: workers.metered.url, workerdPid: workers.metered.pid },
        { name: "gateway", url: workers.gateway.url, workerdPid: workers.gateway.pid },
      ],
    };
    const cachePriming = await primeCache(ctx);
    log("warming up");
    const warm = await runRound(ctx, 0, 0.25);
    const rounds: TargetFigures[] = [];
    const machineLoad: MachineLoad[] = [];
    for (let r = 0; r < effort.rounds; r++) {
      const roundStartedAt = performance.now();
      const load = startLoadSample();
      rounds.push(await runRound(ctx, r, 1, warm));
      machineLoad.push(load.end());
      const m = machineLoad.at(-1)!;
      log(
        `round ${r + 1}/${effort.rounds} done in ${((performance.now() - roundStartedAt) / 1000).toFixed(1)} s ` +
          `(machine ${m.busy_cores} of ${cpus().length} cores busy, ${m.other_cores} of them outside the benchmark; load average ${m.load_average_1m})`,
      );
    }
    for (const name of WORKER_NAMES) {
      const once = { bundle_gzip_kib: bundles[name].gzipBytes / 1024 } as Record<string, number>;
      once.startup_ms = median(startup[name].map((s) => s.ready_ms));
      once.first_request_ms = median(startup[name].map((s) => s.first_request_ms));
      once.startup_empty_ms = median(startupEmpty[name].map((s) => s.ready_ms));
      // Per trial, the Worker's start-up less the empty module's started right after it.
      once.startup_own_ms = median(startup[name].map((s, i) => s.ready_ms - startupEmpty[name][i]!.ready_ms));
      for (const r of rounds) Object.assign(r[name], once);
    }

    const figures = figuresOf(scenarios);
    const medians = mediansOf(rounds);
    const ratios = ratiosOf(figures, medians);
    const meteredRatios = ratiosOf(figures, medians, "metered");
    const extraBundles: Record<string, Bundle> = {};
    for (const [i, config] of (values.bundle ?? []).entries()) {
      const path = resolve(config);
      log(`bundling ${path} (size only)`);
      extraBundles[workerNameOf(path)] = await buildWorker(path, join(work, `extra-${i}`));
    }
    const allBundles: Record<string, Bundle> = { ...bundles, ...extraBundles };
    const table = `${markdownTable(figures, medians, ratios, meteredRatios)}\n\n${bundlesTable(allBundles)}`;
    // The API Worker and the checker Worker (the answer checker's CAS) on their own: bundles, start-up, their RPC.
    const answers = await answerWorkers(join(work, "answers"));
    const durationS = (Date.now() - startedAt.getTime()) / 1000;
    const roundAll = (f: TargetFigures) =>
      Object.fromEntries(TARGETS.map((t) => [t, Object.fromEntries(Object.entries(f[t]).map(([k, v]) => [k, round(v!)]))]));
    const result = {
      started_at: startedAt.toISOString(),
      duration_s: Math.round(durationS),
      mode: values.quick ? "quick" : "full",
      machine: {
        ...machine(),
        load_average_at_start: round(loadAtStart),
        load_average_at_end: round(loadavg()[0]!),
        // Per round: cores busy in all, and busy outside the benchmark (other work skews every figure).
        load_per_round: machineLoad,
        other_cores_median: round(median(machineLoad.map((m) => m.other_cores))),
      },
      setup: {
        targets: TARGET_LABELS,
        simulator: { tokens_per_second: pace, ttft_ms: 0, min_tokens: LONGEST_ANSWER, answers_filled_to_max_tokens: true, stream_interval: streamInterval },
        accounts: keys.accounts,
        cache_priming: cachePriming,
        rounds: effort.rounds,
        scenarios: scenarios.map((s) => ({
          id: s.id,
          title: s.title,
          request: JSON.parse(s.request("<key>").body ?? "null") as unknown,
          // At most; a slow target gets fewer (see `<id>_sequential_n` and `<id>_throughput_n` in `rounds`).
          sequential_per_round: phaseCount(s.sequential, effort, 1),
          targets: s.targets,
          key: s.key,
          cached: s.cached,
          concurrency: s.concurrency,
          amount_per_round: phaseCount(s.amount, effort, s.concurrency * 2),
        })),
        cpu: "utime+stime of the Worker's workerd process over the throughput phase (10 ms ticks)",
      },
      figures: roundAll(medians),
      gateway_over_floor: ratios,
      gateway_over_metered_floor: meteredRatios,
      bundles: Object.fromEntries(Object.entries(allBundles).map(([name, b]) => [name, bundleSummary(b)])),
      startup,
      startup_empty_module: startupEmpty,
      answer_workers: answerWorkersSummary(answers),
      rounds: rounds.map(roundAll),
    };
    const m = result.machine;
    const markdown =
      `Measured ${startedAt.toISOString().slice(0, 10)} with \`npm run bench${values.quick ? " -- --quick" : ""}\` ` +
      `on ${m.cores} × ${m.cpu}, Node ${m.node}, workerd ${m.workerd} (Miniflare ${m.miniflare}); ` +
      `medians of ${effort.rounds} interleaved rounds; ${pace > 0 ? `simulator paced at ${pace} tokens a second a sequence (SIM_TOKENS_PER_SECOND), no time to first token` : "simulator at full speed (no time to first token, no pacing)"}, ` +
      `vLLM's stream interval ${streamInterval} (${streamInterval === 1 ? "an SSE event per token" : `the first token, then an SSE event per ${streamInterval} tokens`}); ` +
      `other work on the machine during the rounds: ${result.machine.other_cores_median} cores (median; load average ` +
      `${result.machine.load_average_at_start} at start, ${result.machine.load_average_at_end} at end).\n\n` +
      `${table}\n\nThe API Worker and the checker Worker (\`bench/answers.ts\`):\n\n${markdownRows(answerWorkerRows(answers))}\n`;
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${outPath}.md`, markdown);
    process.stdout.write(`\n${markdown}\nWrote ${outPath} and ${outPath}.md in ${Math.round(durationS)} s.\n`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
