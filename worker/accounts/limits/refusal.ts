/**
 * @module limits/refusal
 * How every scope's limits say no (the account's, an end user's, a client
 * token's): the code and message of the 429, how long to wait, whether a retry
 * can succeed, and the figures for the `x-ratelimit-*` headers as they stand.
 */

/** What the `x-ratelimit-*` headers report. */
export interface RateLimitSnapshot {
  requests?: { limit: number; remaining: number; resetMs: number };
  tokens?: { limit: number; remaining: number; resetMs: number };
}

/** A refusal by one scope's limits, with the figures for its rate-limit headers. */
export interface ScopeRefusal<Code extends string> {
  ok: false;
  code: Code;
  message: string;
  retryAfterMs: number;
  /** False when retrying the same request cannot succeed soon (OpenAI's `x-should-retry`). */
  shouldRetry: boolean;
  snapshot: RateLimitSnapshot;
}

/** A refusal; the wait is at least a second, as `Retry-After` counts whole seconds. */
export function refusal<Code extends string>(code: Code, message: string, retryAfterMs: number, snapshot: RateLimitSnapshot, shouldRetry = true): ScopeRefusal<Code> {
  return { ok: false, code, message, retryAfterMs: Math.max(1000, retryAfterMs), shouldRetry, snapshot };
}
