/**
 * @module eval-results
 * The run's files: `run.json` (what was asked, so `--resume` sends exactly
 * the same requests) and `results.jsonl`, one JSON object per finished sample,
 * appended and synced as each finishes, so a run killed at any moment leaves
 * a valid file: at worst a torn last line, which reading skips and a resume
 * cuts off before appending.
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { AttemptRecord } from "./client";
import type { Sampling } from "./options";

export const RESULTS_FILE = "results.jsonl";
export const RUN_FILE = "run.json";

/** One sample of one problem, as results.jsonl holds it. */
export interface ResultRow {
  problem_id: string;
  problem_index: number;
  sample: number;
  status: "ok" | "error";
  reference: string;
  subject: string | null;
  level: number | null;
  /** The model's whole answer (null for an error). */
  prediction: string | null;
  /** LIMO's extraction of the final answer from the prediction. */
  extracted_answer: string | null;
  /** The API's own `final_answer`, when it sends one. */
  api_final_answer: string | null;
  /** The checker's verdict: null when it could not decide (counted as wrong, reported apart). */
  correct: boolean | null;
  check_method: string | null;
  finish_reason: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  latency_ms: number | null;
  ttft_ms: number | null;
  request_id: string | null;
  served_model: string | null;
  /** `x-cache` as the API answered. */
  cache: string | null;
  replayed: boolean;
  /** What the ledger bills for it (null when the API is not ours). */
  cost_micro_usd: number | null;
  /** The same tokens at the ledger's live prices (shared/usage.ts). */
  list_cost_micro_usd: number | null;
  error: string | null;
  error_status: number | null;
  attempts: AttemptRecord[];
  idempotency_key: string;
  finished_at: number;
}

export interface RunSession {
  started_at: number;
  ended_at: number | null;
  interrupted: boolean;
  base_url: string;
}

/** run.json. */
export interface RunState {
  version: 1;
  /** Part of every Idempotency-Key: a new run never replays an old run's answers. */
  run_id: string;
  created_at: number;
  dataset: { name: string; path: string; sha256: string; problems: number };
  sampling: Sampling;
  sessions: RunSession[];
}

export function newRunId(): string {
  return randomBytes(6).toString("hex");
}

export function readRunState(dir: string): RunState | null {
  const path = join(dir, RUN_FILE);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, "utf8")) as RunState;
}

/** Written whole to a temporary file and renamed: never half a run.json. */
export function writeRunState(dir: string, state: RunState): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, RUN_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Every whole row of results.jsonl, in file order; a torn last line is left out. */
export function readResults(dir: string): ResultRow[] {
  const path = join(dir, RESULTS_FILE);
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, "utf8").split("\n");
  const rows: ResultRow[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      rows.push(JSON.parse(line) as ResultRow);
    } catch (err) {
      // Only the last line can be torn (a kill mid-write); anything else is a damaged file.
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim() !== "")) {
        throw new Error(`${path}:${i + 1} is not JSON (${(err as Error).message})`);
      }
    }
  });
  return rows;
}

/**
 * The latest row of each (problem, sample): a sample that failed and was
 * retried by a resume has both rows, and the later one counts.
 */
export function latestRows(rows: readonly ResultRow[]): ResultRow[] {
  const latest = new Map<string, ResultRow>();
  for (const row of rows) latest.set(`${row.problem_id}\u0000${row.sample}`, row);
  return [...latest.values()];
}

/** Appends rows one whole line per write, synced to disk before it returns. */
export class ResultsWriter {
  readonly #fd: number;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, RESULTS_FILE);
    if (existsSync(path)) {
      const text = readFileSync(path, "utf8");
      // A torn last line (the previous run was killed mid-write) is cut before appending.
      if (text.length > 0 && !text.endsWith("\n")) truncateSync(path, Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1)));
    }
    this.#fd = openSync(path, "a");
  }

  append(row: ResultRow): void {
    writeSync(this.#fd, `${JSON.stringify(row)}\n`);
    fsyncSync(this.#fd);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
