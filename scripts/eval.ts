/**
 * `npm run eval -- --dataset math500|aime24|amc23|PATH.jsonl [options]`:
 * LIMO's evaluation protocol over an OpenAI-compatible API (scripts/eval/
 * holds the harness; `--help` lists the options). Ctrl-C once stops sending
 * and waits for the requests in flight; twice drops them. Either way
 * results.jsonl stays valid and the report covers what is done.
 * Exit codes: 0 every sample answered, 1 some samples failed (errors, not
 * wrong answers), 2 a usage error, 3 a crash, 130 interrupted.
 */
import { EVAL_USAGE, EvalUsageError, parseEvalArgs } from "./eval/options";
import { systemClock } from "./eval/client";
import { BarProgress, LineProgress, silentProgress, type Progress } from "./eval/progress";
import { summaryTable } from "./eval/report-md";
import { runEval } from "./eval/run";

async function main(): Promise<number> {
  const options = parseEvalArgs(process.argv.slice(2), process.env);
  if (!options) {
    console.log(EVAL_USAGE);
    return 0;
  }
  const stop = new AbortController();
  const abort = new AbortController();
  process.on("SIGINT", () => (stop.signal.aborted ? abort.abort(new Error("interrupted twice")) : stop.abort(new Error("interrupted"))));
  process.on("SIGTERM", () => {
    stop.abort(new Error("terminated"));
    abort.abort(new Error("terminated"));
  });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const tty = Boolean(process.stderr.isTTY);
  const mode = options.progress === "auto" ? (tty ? "bar" : "lines") : options.progress;
  const progress: Progress = mode === "bar" ? new BarProgress(process.stderr) : mode === "lines" ? new LineProgress(log, () => Date.now()) : silentProgress;

  const outcome = await runEval(options, { stop: stop.signal, abort: abort.signal }, {
    fetch: globalThis.fetch,
    clock: systemClock,
    random: Math.random,
    progress,
    log,
  });
  console.log(`\n${summaryTable(outcome.report)}\n`);
  console.log(`Report: ${outcome.dir}/report.md (and report.json); every answer in ${outcome.dir}/results.jsonl`);
  if (outcome.interrupted) {
    console.log(`Interrupted: continue with  npm run eval -- --dataset ${options.dataset} --out ${outcome.dir} --resume`);
    return 130;
  }
  return outcome.report.counts.samples_error > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof EvalUsageError) {
      console.error(`npm run eval: ${err.message}\n\n${EVAL_USAGE}`);
      process.exit(2);
    }
    console.error(`npm run eval failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(3);
  },
);
