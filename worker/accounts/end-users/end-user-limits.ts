/**
 * @module end-user-limits
 * Limits per end user, pure: each end user of an account has its own
 * requests-per-minute bucket, concurrency and tokens per UTC day, checked in
 * the same admission step as the account's limits (the account's object
 * serialises every call, so N concurrent requests of one end user against a
 * limit of L admit exactly L). An end user's state is small (one row), and
 * what is in flight is read from the account's reservations, so nothing here
 * grows with the number of end users but their rows, which are pruned idle.
 */
import { msUntilNextDay, type ScopeNeed, type ScopeRefusal } from "./scope";
import { fullBucket, msUntil, msUntilFull, refill, type Bucket } from "../limits/token-bucket";
import { refusal, type RateLimitSnapshot } from "../limits/refusal";

/** Per-end-user limits in force; null = none. */
export interface EndUserEffectiveLimits {
  requestsPerMinute: number | null;
  tokensPerDay: number | null;
  maxConcurrent: number | null;
}

/** One end user's stored state. */
export interface EndUserState {
  endUser: string;
  requests: Bucket | null;
  /** UTC day `dayUsed` belongs to, `YYYY-MM-DD`. */
  day: string;
  /** Tokens settled on `day` (live and test keys alike). */
  dayUsed: number;
}

/** What the account's reservations hold for one end user. */
export interface InFlightOf {
  count: number;
  reservedTokens: number;
}

export type EndUserCheck = { ok: true; room: number } | ScopeRefusal<"end_user_rate_limit_exceeded" | "end_user_quota_exceeded">;

export function dayOf(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function newEndUserState(endUser: string, now: number): EndUserState {
  return { endUser, requests: null, day: dayOf(now), dayUsed: 0 };
}

export function hasEndUserLimits(limits: EndUserEffectiveLimits): boolean {
  return limits.requestsPerMinute !== null || limits.tokensPerDay !== null || limits.maxConcurrent !== null;
}

/** Brings the bucket and the day up to `now`. */
export function advanceEndUser(state: EndUserState, limits: EndUserEffectiveLimits, now: number): void {
  const rpm = limits.requestsPerMinute;
  state.requests = rpm === null ? null : refill(state.requests ?? fullBucket(rpm, now), rpm, now);
  const day = dayOf(now);
  if (day !== state.day) {
    state.day = day;
    state.dayUsed = 0;
  }
}

/** The end user's request figures for the `x-ratelimit-*-requests` headers (none without a per-minute limit). */
export function endUserSnapshot(state: EndUserState, limits: EndUserEffectiveLimits): RateLimitSnapshot {
  const cap = limits.requestsPerMinute;
  if (cap === null || !state.requests) return {};
  return { requests: { limit: cap, remaining: Math.floor(state.requests.level), resetMs: msUntilFull(state.requests, cap) } };
}

/** Checks one end user's limits for a request, using nothing; `room` is the tokens its day leaves. */
export function checkEndUser(state: EndUserState, limits: EndUserEffectiveLimits, inFlight: InFlightOf, need: ScopeNeed, now: number): EndUserCheck {
  advanceEndUser(state, limits, now);
  const refuse = (code: "end_user_rate_limit_exceeded" | "end_user_quota_exceeded", message: string, retryAfterMs: number, shouldRetry = true): EndUserCheck =>
    refusal(code, message, retryAfterMs, endUserSnapshot(state, limits), shouldRetry);
  if (state.requests && limits.requestsPerMinute !== null && state.requests.level < 1) {
    const wait = msUntil(state.requests, limits.requestsPerMinute, 1);
    return refuse("end_user_rate_limit_exceeded", `Rate limit reached for this end user: ${limits.requestsPerMinute} requests per minute.`, wait);
  }
  if (limits.maxConcurrent !== null && inFlight.count >= limits.maxConcurrent) {
    return refuse("end_user_rate_limit_exceeded", `Too many concurrent requests for this end user: at most ${limits.maxConcurrent} at once.`, 1000);
  }
  const cap = limits.tokensPerDay;
  if (cap === null) return { ok: true, room: Infinity };
  const asked = need.flexible ? need.minimum : need.wanted;
  if (asked > cap) {
    return refuse(
      "end_user_quota_exceeded",
      `Request too large: it may use up to ${asked} tokens, over this end user's limit of ${cap} tokens per day. Reduce the prompt or max_tokens.`,
      msUntilNextDay(now),
      false,
    );
  }
  const left = cap - state.dayUsed - inFlight.reservedTokens;
  if (left < asked) {
    const reserved = inFlight.reservedTokens > 0;
    return refuse(
      "end_user_quota_exceeded",
      `This end user exceeded the limit of ${cap} tokens per day` + (reserved ? " (including tokens reserved by requests in progress)." : "."),
      reserved ? 1000 : msUntilNextDay(now),
      reserved,
    );
  }
  return { ok: true, room: left };
}

/** Takes an admitted request from the end user's bucket (its tokens are held by its reservation). */
export function takeEndUser(state: EndUserState): void {
  if (state.requests) state.requests.level -= 1;
}

/** Counts a settled request's real usage on the day it was admitted (a reservation of yesterday does not count today). */
export function settleEndUser(state: EndUserState, limits: EndUserEffectiveLimits, admittedAt: number, used: number, now: number): void {
  advanceEndUser(state, limits, now);
  if (dayOf(admittedAt) === state.day) state.dayUsed += used;
}
