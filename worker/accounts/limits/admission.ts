/**
 * @module admission
 * The account's admission decision, pure: rate limits (requests and tokens per
 * minute, token buckets), concurrency, and the monthly token quota, checked and
 * reserved in one step; settled with the real usage when the request ends; and
 * reservations that were never settled expired conservatively. The account's
 * Durable Object owns one AdmissionState and serialises every call, which is
 * what makes the limits exact under concurrency.
 */
import { fullBucket, msUntil, msUntilFull, refill, type Bucket } from "./token-bucket";
import { refusal, type RateLimitSnapshot, type ScopeRefusal } from "./refusal";

/** Effective limits after plan defaults and account overrides; null = no limit. */
export interface EffectiveLimits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  maxConcurrent: number | null;
  monthlyTokenQuota: number | null;
}

/** Capacity held for one admitted request until it settles. */
export interface Reservation {
  requestId: string;
  keyId: string;
  model: string;
  mode: "live" | "test";
  /** Conservative prompt estimate, in tokens. */
  promptTokens: number;
  /** Completion tokens reserved: max_tokens x n. */
  completionTokens: number;
  admittedAt: number;
  /** After this the reservation is settled by the alarm as if fully used. */
  expiresAt: number;
  /** The request's end user, whose limits it also holds (end-users/end-user-limits.ts). */
  endUser?: string | null;
  /** The client token it was made with, whose budget it also holds. */
  clientTokenId?: string | null;
}

export interface AdmissionState {
  requests: Bucket | null;
  tokens: Bucket | null;
  /** UTC month the counters below belong to, `YYYY-MM`. */
  month: string;
  /** Tokens settled this month (live keys only). */
  monthUsed: number;
  inFlight: Map<string, Reservation>;
}

export interface AdmitAsk {
  requestId: string;
  keyId: string;
  model: string;
  mode: "live" | "test";
  promptTokens: number;
  n: number;
  /** Completion tokens per choice the request wants. */
  maxTokens: number;
  /** max_tokens was not set by the client: it may be lowered to what the limits allow. */
  maxTokensFlexible: boolean;
  now: number;
  /** How long the reservation may stay unsettled, in ms. */
  ttlMs: number;
  /** Tokens the request's narrower scopes (its end user's day, its client token's budget) leave it; absent: no cap. */
  room?: number;
  endUser?: string | null;
  clientTokenId?: string | null;
}

export type { RateLimitSnapshot } from "./refusal";

export type AdmitResult =
  | { ok: true; reservation: Reservation; maxTokens: number; snapshot: RateLimitSnapshot }
  | ScopeRefusal<"rate_limit_exceeded" | "insufficient_quota">;

/** A month key such as `2026-11`, in UTC. */
export function monthOf(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

/** Milliseconds from `now` to the start of the next UTC month. */
export function msUntilNextMonth(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - now;
}

export function newAdmissionState(now: number): AdmissionState {
  return { requests: null, tokens: null, month: monthOf(now), monthUsed: 0, inFlight: new Map() };
}

/** Brings buckets and the month up to `now` for the given limits. */
function advance(state: AdmissionState, limits: EffectiveLimits, now: number): void {
  const rpm = limits.requestsPerMinute;
  const tpm = limits.tokensPerMinute;
  state.requests = rpm === null ? null : refill(state.requests ?? fullBucket(rpm, now), rpm, now);
  state.tokens = tpm === null ? null : refill(state.tokens ?? fullBucket(tpm, now), tpm, now);
  const month = monthOf(now);
  if (month !== state.month) {
    state.month = month;
    state.monthUsed = 0;
  }
}

/** Tokens reserved by requests still in flight (live keys: what the quota must hold back). */
export function reservedLiveTokens(state: AdmissionState): number {
  let sum = 0;
  for (const r of state.inFlight.values()) if (r.mode === "live") sum += r.promptTokens + r.completionTokens;
  return sum;
}

/** The rate-limit figures as of `now`, using nothing. */
export function currentSnapshot(state: AdmissionState, limits: EffectiveLimits, now: number): RateLimitSnapshot {
  advance(state, limits, now);
  return snapshot(state, limits);
}

export function snapshot(state: AdmissionState, limits: EffectiveLimits): RateLimitSnapshot {
  const out: RateLimitSnapshot = {};
  if (state.requests && limits.requestsPerMinute !== null) {
    const cap = limits.requestsPerMinute;
    out.requests = { limit: cap, remaining: Math.floor(state.requests.level), resetMs: msUntilFull(state.requests, cap) };
  }
  if (state.tokens && limits.tokensPerMinute !== null) {
    const cap = limits.tokensPerMinute;
    out.tokens = { limit: cap, remaining: Math.floor(state.tokens.level), resetMs: msUntilFull(state.tokens, cap) };
  }
  return out;
}

/**
 * Checks every limit and, only if all pass, takes from each: one atomic step.
 * A flexible max_tokens is lowered to what the token limits leave (never below
 * one token per choice); a fixed one must fit whole.
 */
export function admit(state: AdmissionState, limits: EffectiveLimits, ask: AdmitAsk): AdmitResult {
  advance(state, limits, ask.now);
  const refuse = (code: "rate_limit_exceeded" | "insufficient_quota", message: string, retryAfterMs: number, shouldRetry = true): AdmitResult =>
    refusal(code, message, retryAfterMs, snapshot(state, limits), shouldRetry);

  if (state.requests && limits.requestsPerMinute !== null && state.requests.level < 1) {
    const wait = msUntil(state.requests, limits.requestsPerMinute, 1);
    return refuse("rate_limit_exceeded", `Rate limit reached: ${limits.requestsPerMinute} requests per minute.`, wait);
  }
  if (limits.maxConcurrent !== null && state.inFlight.size >= limits.maxConcurrent) {
    return refuse("rate_limit_exceeded", `Too many concurrent requests: at most ${limits.maxConcurrent} at once.`, 1000);
  }

  const minimum = ask.promptTokens + ask.n;
  const wanted = ask.promptTokens + ask.n * ask.maxTokens;
  let room = ask.room ?? Infinity;
  if (state.tokens && limits.tokensPerMinute !== null) {
    const cap = limits.tokensPerMinute;
    if (minimum > cap || (!ask.maxTokensFlexible && wanted > cap)) {
      return refuse(
        "rate_limit_exceeded",
        `Request too large: it may use up to ${ask.maxTokensFlexible ? minimum : wanted} tokens, over the limit of ${cap} tokens per minute. Reduce the prompt or max_tokens.`,
        60_000,
        false,
      );
    }
    room = Math.min(room, state.tokens.level);
    const need = ask.maxTokensFlexible ? minimum : wanted;
    if (state.tokens.level < need) {
      return refuse("rate_limit_exceeded", `Rate limit reached: ${cap} tokens per minute.`, msUntil(state.tokens, cap, need));
    }
  }
  if (ask.mode === "live" && limits.monthlyTokenQuota !== null) {
    const left = limits.monthlyTokenQuota - state.monthUsed - reservedLiveTokens(state);
    const need = ask.maxTokensFlexible ? minimum : wanted;
    if (left < need) {
      const inFlight = reservedLiveTokens(state) > 0;
      return refuse(
        "insufficient_quota",
        `You exceeded your monthly token quota of ${limits.monthlyTokenQuota}` +
          (inFlight ? " (including tokens reserved by requests in progress)." : "."),
        inFlight ? 1000 : msUntilNextMonth(ask.now),
        inFlight,
      );
    }
    room = Math.min(room, left);
  }

  const granted = ask.maxTokensFlexible ? Math.min(wanted, room) : wanted;
  const maxTokens = ask.maxTokensFlexible ? Math.max(1, Math.floor((granted - ask.promptTokens) / ask.n)) : ask.maxTokens;
  const reservation: Reservation = {
    requestId: ask.requestId,
    keyId: ask.keyId,
    model: ask.model,
    mode: ask.mode,
    promptTokens: ask.promptTokens,
    completionTokens: maxTokens * ask.n,
    admittedAt: ask.now,
    expiresAt: ask.now + ask.ttlMs,
    endUser: ask.endUser ?? null,
    clientTokenId: ask.clientTokenId ?? null,
  };
  if (state.requests) state.requests.level -= 1;
  if (state.tokens) state.tokens.level -= reservation.promptTokens + reservation.completionTokens;
  state.inFlight.set(ask.requestId, reservation);
  return { ok: true, reservation, maxTokens, snapshot: snapshot(state, limits) };
}

/** Real usage of a finished request. */
export interface SettledUsage {
  promptTokens: number;
  completionTokens: number;
}

/**
 * Releases a reservation and counts what was really used: the token bucket
 * gets back what was reserved but not used, the month counts the real usage.
 * Returns the reservation (null if it was already settled or expired).
 */
export function settle(state: AdmissionState, limits: EffectiveLimits, requestId: string, usage: SettledUsage, now: number, mode: "live" | "test"): Reservation | null {
  advance(state, limits, now);
  const reservation = state.inFlight.get(requestId) ?? null;
  state.inFlight.delete(requestId);
  const used = usage.promptTokens + usage.completionTokens;
  if (reservation && state.tokens && limits.tokensPerMinute !== null) {
    const unused = reservation.promptTokens + reservation.completionTokens - used;
    state.tokens.level = Math.min(limits.tokensPerMinute, state.tokens.level + unused);
  }
  if (mode === "live" && monthOf(reservation?.admittedAt ?? now) === state.month) state.monthUsed += used;
  return reservation;
}

/**
 * Settles every reservation whose time ran out as if it had used all it
 * reserved (the Worker that held it is gone, so nobody can say less), and
 * returns them for the ledger.
 */
export function expire(state: AdmissionState, limits: EffectiveLimits, now: number): Reservation[] {
  const expired = [...state.inFlight.values()].filter((r) => r.expiresAt <= now);
  for (const r of expired) {
    settle(state, limits, r.requestId, { promptTokens: r.promptTokens, completionTokens: r.completionTokens }, now, r.mode);
  }
  return expired;
}

/** The earliest expiry among reservations in flight, for the alarm. */
export function nextExpiry(state: AdmissionState): number | null {
  let next: number | null = null;
  for (const r of state.inFlight.values()) if (next === null || r.expiresAt < next) next = r.expiresAt;
  return next;
}
