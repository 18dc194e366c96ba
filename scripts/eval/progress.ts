/**
 * @module eval-progress
 * What a long run shows while it works: on a terminal a `cli-progress` bar
 * (done/total, accuracy so far, tokens a second, cost so far, ETA), redrawn
 * in place; elsewhere (CI, a log file) one plain line at every tenth of the
 * run and at least every PLAIN_LINE_INTERVAL_MS, so a log reads as a story
 * and does not fill up with redraws.
 */
import { MultiBar, Presets, type SingleBar } from "cli-progress";
import { formatMicroUsd } from "../../shared/usage";

/** A quiet stretch of a long run still prints a line this often. */
export const PLAIN_LINE_INTERVAL_MS = 30_000;

export interface ProgressSnapshot {
  /** Samples finished, this session and earlier ones (a resume starts above 0). */
  done: number;
  total: number;
  /** Samples finished by this session: the ETA's pace. */
  doneThisSession: number;
  correct: number;
  /** Answered samples (errors excluded). */
  answered: number;
  errors: number;
  /** Content tokens streamed this session. */
  tokensThisSession: number;
  costMicroUsd: number;
  /** "billed" when the ledger bills these tokens, "list" when it is their price at list rates (a test key, another API). */
  costKind: "billed" | "list";
  /** 429 answers this session (each one waited its Retry-After). */
  rateLimitedRetries: number;
}

export interface Progress {
  update(snapshot: ProgressSnapshot): void;
  /** A line of its own (an interruption, a warning) that the bar does not overwrite. */
  note(text: string): void;
  stop(snapshot: ProgressSnapshot): void;
}

/** The numbers both displays show, as text. */
export function describeProgress(s: ProgressSnapshot, elapsedMs: number): { accuracy: string; tps: string; cost: string; eta: string } {
  const accuracy = s.answered ? `${((s.correct / s.answered) * 100).toFixed(1)}% (${s.correct}/${s.answered})` : "-";
  const tps = elapsedMs > 0 ? String(Math.round((s.tokensThisSession * 1000) / elapsedMs)) : "0";
  const cost = `$${formatMicroUsd(s.costMicroUsd)}${s.costKind === "list" ? " at list prices" : ""}`;
  const remaining = s.total - s.done;
  const eta = remaining === 0 ? "0s" : s.doneThisSession === 0 ? "-" : duration((elapsedMs / s.doneThisSession) * remaining);
  return { accuracy, tps, cost, eta };
}

/** `2h05m`, `4m10s`, `35s`. */
export function duration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

/** Plain lines for logs. `now` is injected so tests decide when time passes. */
export class LineProgress implements Progress {
  readonly #write: (line: string) => void;
  readonly #now: () => number;
  readonly #startedAt: number;
  #lastLineAt: number;
  #lastTenth = -1;
  #lastDone = -1;
  #lastRetries = 0;

  constructor(write: (line: string) => void, now: () => number) {
    this.#write = write;
    this.#now = now;
    this.#startedAt = now();
    this.#lastLineAt = this.#startedAt;
  }

  update(s: ProgressSnapshot): void {
    const tenth = s.total === 0 ? 10 : Math.floor((s.done * 10) / s.total);
    const due = this.#now() - this.#lastLineAt >= PLAIN_LINE_INTERVAL_MS;
    if (tenth > this.#lastTenth || (due && (s.done !== this.#lastDone || s.rateLimitedRetries !== this.#lastRetries))) this.#line(s);
    this.#lastTenth = Math.max(this.#lastTenth, tenth);
  }

  note(text: string): void {
    this.#write(`eval: ${text}`);
  }

  stop(s: ProgressSnapshot): void {
    if (s.done !== this.#lastDone) this.#line(s);
  }

  #line(s: ProgressSnapshot): void {
    const d = describeProgress(s, this.#now() - this.#startedAt);
    const percent = s.total ? Math.floor((s.done * 100) / s.total) : 100;
    const extra = [s.errors ? `${s.errors} errors` : "", s.rateLimitedRetries ? `${s.rateLimitedRetries} rate-limited (429) retries` : ""].filter(Boolean);
    this.#write(
      `eval: ${s.done}/${s.total} done (${percent}%), accuracy so far ${d.accuracy}, ${d.tps} tokens/s, cost ${d.cost}, ETA ${d.eta}${extra.length ? `, ${extra.join(", ")}` : ""}`,
    );
    this.#lastLineAt = this.#now();
    this.#lastDone = s.done;
    this.#lastRetries = s.rateLimitedRetries;
  }
}

/** The terminal bar (a MultiBar of one: it can print notes above the bar without breaking it). */
export class BarProgress implements Progress {
  readonly #multi: MultiBar;
  #bar: SingleBar | null = null;
  readonly #startedAt = Date.now();

  constructor(stream: NodeJS.WritableStream) {
    this.#multi = new MultiBar(
      {
        stream,
        format: " {bar} {value}/{total} | accuracy {accuracy} | {tps} tok/s | {cost} | ETA {eta_text}",
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
      },
      Presets.shades_classic,
    );
  }

  update(s: ProgressSnapshot): void {
    const d = describeProgress(s, Date.now() - this.#startedAt);
    const fields = { accuracy: d.accuracy, tps: d.tps, cost: d.cost, eta_text: d.eta };
    if (!this.#bar) this.#bar = this.#multi.create(s.total, s.done, fields);
    else this.#bar.update(s.done, fields);
  }

  note(text: string): void {
    this.#multi.log(`${text}\n`);
  }

  stop(s: ProgressSnapshot): void {
    this.update(s);
    this.#multi.stop();
  }
}

/** Nothing shown (`--progress none`). */
export const silentProgress: Progress = { update() {}, note() {}, stop() {} };
