/**
 * @module eval-retry
 * When a failed request is tried again, and after how long. A 429 or a 409
 * (the same Idempotency-Key still running) waits what the server says
 * (`retry-after-ms`, else `Retry-After` in seconds or as a date) and does not
 * use up the failure budget: waiting for a rate limit is not failing. A 5xx,
 * a broken connection or an error in the stream is a failure, retried with
 * exponential backoff (or the server's Retry-After when it sends one) up to
 * MAX_FAILED_ATTEMPTS. A spent quota (`x-should-retry: false`) and any other
 * 4xx are final. Pure: the caller sleeps.
 */

/** Attempts that may fail (5xx, connection, stream errors) before the sample is recorded as an error. */
export const MAX_FAILED_ATTEMPTS = 6;
/** Rate-limit waits one sample may sit through before it is recorded as an error. */
export const MAX_RATE_LIMITED_WAITS = 200;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** A 429 without any Retry-After (another provider) waits this long. */
const RATE_LIMIT_DEFAULT_WAIT_MS = 5_000;
/** Longest wait honoured from one header: a misconfigured server cannot park the run for a day. */
const MAX_SERVER_WAIT_MS = 10 * 60_000;
/** Up to this share of a wait is added at random, so workers told the same time do not all come back at once. */
const JITTER_SHARE = 0.1;

/** What went wrong with one attempt. */
export type AttemptFailure =
  | { kind: "http"; status: number; headers: Headers; code: string | null; message: string }
  | { kind: "network"; message: string }
  | { kind: "stream"; message: string };

export type RetryDecision =
  | { retry: false }
  | { retry: true; waitMs: number; counts: "failure" | "rate_limit"; serverWaitMs: number | null };

/** The server's requested wait in ms: `retry-after-ms`, else `Retry-After` (seconds or an HTTP date); null when absent. */
export function serverWaitMs(headers: Headers, now: number): number | null {
  const ms = Number(headers.get("retry-after-ms"));
  if (headers.has("retry-after-ms") && Number.isFinite(ms) && ms >= 0) return Math.min(ms, MAX_SERVER_WAIT_MS);
  const raw = headers.get("retry-after");
  if (raw === null) return null;
  const seconds = Number(raw);
  if (raw.trim() !== "" && Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_SERVER_WAIT_MS);
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.min(Math.max(0, date - now), MAX_SERVER_WAIT_MS) : null;
}

/**
 * Whether to try again after `failure`, given the failed and rate-limited
 * attempts so far (this one not counted), and how long to wait first.
 * `random` is in [0, 1) (injected for tests).
 */
export function decideRetry(
  failure: AttemptFailure,
  sofar: { failures: number; rateLimited: number },
  now: number,
  random: number,
): RetryDecision {
  const jitter = (ms: number) => Math.round(ms * (1 + JITTER_SHARE * random));
  if (failure.kind === "http") {
    const { status, headers } = failure;
    const told = serverWaitMs(headers, now);
    if (status === 429 || status === 409) {
      // A spent quota says so: retrying cannot help until an operator acts.
      if (headers.get("x-should-retry") === "false" || failure.code === "insufficient_quota") return { retry: false };
      if (sofar.rateLimited + 1 >= MAX_RATE_LIMITED_WAITS) return { retry: false };
      const wait = told ?? RATE_LIMIT_DEFAULT_WAIT_MS;
      return { retry: true, waitMs: jitter(wait), counts: "rate_limit", serverWaitMs: told };
    }
    if (status < 500 && status !== 408) return { retry: false };
    if (headers.get("x-should-retry") === "false") return { retry: false };
    if (sofar.failures + 1 >= MAX_FAILED_ATTEMPTS) return { retry: false };
    return { retry: true, waitMs: jitter(told ?? backoff(sofar.failures)), counts: "failure", serverWaitMs: told };
  }
  if (sofar.failures + 1 >= MAX_FAILED_ATTEMPTS) return { retry: false };
  return { retry: true, waitMs: jitter(backoff(sofar.failures)), counts: "failure", serverWaitMs: null };
}

/** 1 s, 2 s, 4 s, ... capped at 30 s, for the n-th failure (from 0). */
function backoff(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** failures);
}
