/**
 * @module eval-cli
 * Runs `npm run eval` as a user does (its own process, output piped, so not
 * a terminal) for the end-to-end tests, and reads what it leaves behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EvalReport } from "../../scripts/eval/report";
import type { ResultRow } from "../../scripts/eval/results";
import type { UsageRecord, UsageRecordList } from "../../shared/usage";
import type { AdminCall } from "./dev-stack";

const ROOT = join(import.meta.dirname, "..", "..");

export interface CliRun {
  child: ChildProcess;
  /** Resolves when the process exits. */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stderr: () => string;
}

/** Starts the CLI with `args` (what follows `npm run eval --`). */
export function startEval(args: string[], env: Record<string, string> = {}): CliRun {
  // node directly, not `npm run`: a signal sent to the child reaches the harness itself.
  const child = spawn(join(ROOT, "node_modules", ".bin", "node"), ["--import", "tsx", "scripts/eval.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done, stderr: () => stderr };
}

export async function runEvalCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return startEval(args, env).done;
}

export function readReport(dir: string): EvalReport {
  return JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as EvalReport;
}

/** Every line of results.jsonl, parsed: a line that is not JSON fails the test here. */
export function readRows(dir: string): ResultRow[] {
  return readFileSync(join(dir, "results.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as ResultRow);
}

/**
 * The account's ledger through the admin usage API, once it holds at least
 * `expected` records (settlement lands just after the answer's last byte) or
 * after `maxWaitMs`.
 */
export async function ledgerOf(admin: AdminCall, accountId: string, expected: number, maxWaitMs = 15_000): Promise<{ records: UsageRecord[]; costMicroUsd: number }> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const list = await admin<UsageRecordList>("GET", `/accounts/${accountId}/usage?limit=1000`);
    if (list.totals.requests >= expected || Date.now() > deadline) return { records: list.data, costMicroUsd: list.totals.cost_micro_usd };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The lines of the plain progress display, as numbers. */
export function progressLines(stderr: string): { done: number; total: number; line: string }[] {
  return stderr
    .split("\n")
    .map((line) => ({ line, m: /^eval: (\d+)\/(\d+) done \(\d+%\)/.exec(line) }))
    .filter((x) => x.m)
    .map(({ line, m }) => ({ done: Number(m![1]), total: Number(m![2]), line }));
}
