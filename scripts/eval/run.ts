/**
 * @module eval-run
 * One session of an evaluation run: reads or creates the run in its folder,
 * starts the embedded stack when no API was named, sends every sample not
 * yet done through a pool of `--concurrency` workers, appends each row as it
 * finishes, and writes the report. `stop` (the first Ctrl-C) sends nothing
 * new and lets the requests in flight finish, so no answer is paid for and
 * thrown away; `abort` (the second) drops them: nothing is recorded for
 * them, and a resume asks again under the same Idempotency-Key.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RateGate, type Clock } from "./client";
import { loadDataset, type Problem } from "./dataset";
import { EvalUsageError, type EvalOptions, type Sampling } from "./options";
import { accuracyChart, tokensHistogram } from "./plot";
import { LineProgress, type Progress, type ProgressSnapshot } from "./progress";
import { buildReport, type EvalReport, type SimulatorFacts } from "./report";
import { renderMarkdown } from "./report-md";
import { latestRows, newRunId, readResults, readRunState, RESULTS_FILE, ResultsWriter, writeRunState, type ResultRow, type RunState } from "./results";
import { isBilled, runSample, type SampleContext } from "./sample";
import { readApiFacts, readOracleStats, startEmbeddedStack, type EmbeddedStack } from "./stack";

/** How often the progress display is refreshed between finished samples. */
const PROGRESS_TICK_MS = 1_000;
const ROOT = join(import.meta.dirname, "..", "..");

export interface RunControl {
  /** No new requests; those in flight finish. */
  stop: AbortSignal;
  /** Requests in flight are dropped too. */
  abort: AbortSignal;
}

export interface RunDeps {
  fetch: typeof fetch;
  clock: Clock;
  random: () => number;
  /** The progress display; default: plain lines through `log`. */
  progress?: Progress;
  /** Where the harness's own notes go (stderr by default). */
  log?: (line: string) => void;
}

export interface RunOutcome {
  dir: string;
  report: EvalReport;
  interrupted: boolean;
}

/** Runs (or resumes) the evaluation that `options` describe. */
export async function runEval(options: EvalOptions, control: RunControl, deps: RunDeps): Promise<RunOutcome> {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dataset = loadDataset(options.dataset);
  const dir = options.out ?? join(ROOT, "eval", "runs", `${dataset.name}-${stamp(deps.clock.now())}`);
  const state = openRun(dir, options, dataset);
  const planned = dataset.problems.slice(0, options.limit ?? dataset.problems.length);

  let stack: EmbeddedStack | null = null;
  if (!options.baseUrl) {
    log(`eval: starting the local stack (simulator${options.oracle ? ` with oracle accuracy ${options.oracle.accuracy}` : ""} + wrangler dev)...`);
    stack = await startEmbeddedStack(options.oracle);
    log(`eval: local API at ${stack.baseUrl}`);
  }
  try {
    const baseUrl = stack?.baseUrl ?? options.baseUrl!;
    const apiKey = stack?.apiKey ?? options.apiKey;
    if (!apiKey) throw new EvalUsageError("no API key: pass --api-key or set LIMO_API_KEY (or OPENAI_API_KEY)");
    const api = await readApiFacts(baseUrl, deps.fetch);
    const session = { started_at: deps.clock.now(), ended_at: null as number | null, interrupted: false, base_url: baseUrl };
    state.sessions.push(session);
    writeRunState(dir, state);

    const ctx: SampleContext = { runId: state.run_id, baseUrl, apiKey, sampling: state.sampling, cache: options.cache, ours: api.ours };
    const interrupted = await runPool(ctx, dir, planned, state.sampling.samples, options.concurrency, control, deps, log);

    session.ended_at = deps.clock.now();
    session.interrupted = interrupted;
    writeRunState(dir, state);
    let simulator: SimulatorFacts | null = null;
    if (stack && options.oracle) {
      // Ctrl-C in a terminal reaches the stack too: then its count is gone, and the report goes without it.
      simulator = await readOracleStats(stack.simUrl, options.oracle).catch((err: unknown) => {
        log(`eval: no simulator count (${err instanceof Error ? err.message : String(err)})`);
        return null;
      });
    }
    const rows = latestRows(readResults(dir));
    const report = await buildReport({
      state,
      rows,
      planned: planned.map((p) => p.id),
      api,
      cache: options.cache,
      concurrency: options.concurrency,
      interrupted,
      durationMs: state.sessions.reduce((sum, s) => sum + ((s.ended_at ?? s.started_at) - s.started_at), 0),
      simulator,
    });
    writeReport(dir, report, rows, state.sampling);
    return { dir, report, interrupted };
  } finally {
    await stack?.stop();
  }
}

/** A new run in an empty folder, or the run already there when resuming (with the same data set and settings). */
function openRun(dir: string, options: EvalOptions, dataset: ReturnType<typeof loadDataset>): RunState {
  const existing = readRunState(dir);
  if (!options.resume) {
    if (existing || existsSync(join(dir, RESULTS_FILE))) throw new EvalUsageError(`${dir} already holds a run: add --resume to continue it, or choose another --out`);
    const sampling: Sampling = {
      model: options.model, systemPrompt: options.systemPrompt, temperature: options.temperature,
      topP: options.topP, maxTokens: options.maxTokens, samples: options.samples, seed: options.seed,
    };
    const fileInfo = { name: dataset.name, path: dataset.path, sha256: dataset.sha256, problems: dataset.problems.length };
    return { version: 1, run_id: newRunId(), created_at: Date.now(), dataset: fileInfo, sampling, sessions: [] };
  }
  if (!existing) throw new EvalUsageError(`--resume: ${dir} holds no run (no run.json)`);
  if (existing.dataset.sha256 !== dataset.sha256) throw new EvalUsageError(`--resume: ${dataset.path} is not the data set this run started with`);
  for (const name of options.explicit) {
    if (existing.sampling[name] !== options[name]) {
      throw new EvalUsageError(`--resume: the run was started with ${name} ${JSON.stringify(existing.sampling[name])}; leave the option out to keep it`);
    }
  }
  return existing;
}

/** The pool: returns true when it was interrupted before every sample was done. */
async function runPool(
  ctx: SampleContext, dir: string, planned: readonly Problem[], samples: number, concurrency: number,
  control: RunControl, deps: RunDeps, log: (line: string) => void,
): Promise<boolean> {
  const previous = latestRows(readResults(dir));
  const done = new Set(previous.filter((r) => r.status === "ok").map((r) => `${r.problem_id}\u0000${r.sample}`));
  const tasks: { problem: Problem; sample: number }[] = [];
  for (const problem of planned) for (let s = 0; s < samples; s++) if (!done.has(`${problem.id}\u0000${s}`)) tasks.push({ problem, sample: s });
  const plannedIds = new Set(planned.map((p) => p.id));
  const earlier = previous.filter((r) => r.status === "ok" && plannedIds.has(r.problem_id));

  const snapshot: ProgressSnapshot = {
    done: earlier.length, total: planned.length * samples, doneThisSession: 0,
    correct: earlier.filter((r) => r.correct === true).length, answered: earlier.length, errors: 0,
    tokensThisSession: 0, costMicroUsd: 0, costKind: isBilled(ctx) ? "billed" : "list", rateLimitedRetries: 0,
  };
  for (const row of earlier) snapshot.costMicroUsd += costShown(snapshot, row);
  const progress = deps.progress ?? new LineProgress(log, () => deps.clock.now());
  if (earlier.length) progress.note(`resuming: ${earlier.length} of ${snapshot.total} samples already done`);
  progress.update(snapshot);
  const tick = setInterval(() => progress.update(snapshot), PROGRESS_TICK_MS);
  const onStop = () => progress.note("stopping: no new requests; waiting for those in flight (Ctrl-C again to drop them)");
  control.stop.addEventListener("abort", onStop, { once: true });

  const writer = new ResultsWriter(dir);
  const gate = new RateGate();
  let next = 0;
  const countingFetch: typeof fetch = async (input, init) => {
    const res = await deps.fetch(input, init);
    if (res.status === 429) snapshot.rateLimitedRetries++;
    return res;
  };
  const worker = async () => {
    while (!control.stop.aborted && next < tasks.length) {
      const task = tasks[next++]!;
      const clientDeps = {
        fetch: countingFetch, clock: deps.clock, random: deps.random, gate, signal: control.abort,
        onDelta: (n: number) => { snapshot.tokensThisSession += n; },
      };
      const row = await runSample(ctx, task.problem, task.sample, clientDeps);
      if (row === null) continue;
      // Once interrupted, a failure is the interruption's doing (the embedded stack stops with Ctrl-C): not recorded.
      if (row.status === "error" && control.stop.aborted) continue;
      writer.append(row);
      record(snapshot, row);
      progress.update(snapshot);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, tasks.length)) }, worker));
  } finally {
    clearInterval(tick);
    control.stop.removeEventListener("abort", onStop);
    writer.close();
    progress.stop(snapshot);
  }
  return control.stop.aborted && snapshot.doneThisSession < tasks.length;
}

function record(snapshot: ProgressSnapshot, row: ResultRow): void {
  snapshot.done++;
  snapshot.doneThisSession++;
  if (row.status === "error") {
    snapshot.errors++;
    return;
  }
  snapshot.answered++;
  if (row.correct === true) snapshot.correct++;
  snapshot.costMicroUsd += costShown(snapshot, row);
}

/** The row's cost as the progress display counts it: billed, or at list prices when nothing is billed. */
function costShown(snapshot: ProgressSnapshot, row: ResultRow): number {
  return (snapshot.costKind === "billed" ? row.cost_micro_usd : row.list_cost_micro_usd) ?? 0;
}

function writeReport(dir: string, report: EvalReport, rows: readonly ResultRow[], sampling: Sampling): void {
  const plots = { levels: null as string | null, tokens: null as string | null };
  if (report.by_level.length > 1) {
    plots.levels = "accuracy-by-level.svg";
    writeFileSync(join(dir, plots.levels), accuracyChart(`${report.dataset.name}: ${report.metric} by level`, report.by_level, report.published?.percent ?? null));
  }
  const tokens = rows.filter((r) => r.status === "ok").map((r) => r.completion_tokens);
  if (tokens.length > 0) {
    plots.tokens = "tokens-per-answer.svg";
    writeFileSync(join(dir, plots.tokens), tokensHistogram(`${report.dataset.name}: tokens per answer`, tokens, sampling.maxTokens));
  }
  writeFileSync(join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, "report.md"), renderMarkdown(report, plots));
}

/** `20251125-094012`, UTC: folder names that sort by time. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}
