/**
 * @module scope
 * What the limits of a request's narrower scopes (its end user, its client
 * token) share with the account's: the tokens a request asks for, and the
 * shape of a refusal (limits/refusal). Pure.
 */
/** Tokens a request asks for: the least it can run with, and all it wants. */
export interface ScopeNeed {
  /** Prompt plus one token per choice. */
  minimum: number;
  /** Prompt plus max_tokens per choice. */
  wanted: number;
  /** max_tokens was not set by the client: it may be lowered to the room left. */
  flexible: boolean;
}

export type { ScopeRefusal } from "../limits/refusal";

/** Milliseconds from `now` to the next UTC midnight. */
export function msUntilNextDay(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) - now;
}

/** The need of a request of `promptTokens`, `n` choices and `maxTokens` each. */
export function scopeNeed(promptTokens: number, n: number, maxTokens: number, flexible: boolean): ScopeNeed {
  return { minimum: promptTokens + n, wanted: promptTokens + n * maxTokens, flexible };
}
