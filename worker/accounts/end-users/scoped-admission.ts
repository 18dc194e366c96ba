/**
 * @module scoped-admission
 * The narrower scopes of one request, pure: its end user (the per-end-user
 * limits) and its client token (the token's own budget). The account's
 * object checks them in the same call, and the same step, as the account's
 * own limits: all pass, then all are taken, so a refusal by any leaves every
 * other untouched. What a scope has in flight is read from the account's
 * reservations, which carry their end user and token.
 */
import type { EndUserLimits } from "../../../shared/end-users";
import { checkTokenBudget, type ClientTokenState } from "../client-tokens/client-token-state";
import type { RateLimitSnapshot, Reservation } from "../limits/admission";
import { checkEndUser, endUserSnapshot, settleEndUser, takeEndUser, type EndUserEffectiveLimits, type EndUserState, type InFlightOf } from "./end-user-limits";
import type { ScopeNeed, ScopeRefusal } from "./scope";

/** The scopes a request is checked against besides its account. */
export interface Scopes {
  /** The end user's state, loaded when the request has an end user and the account limits end users. */
  endUser: EndUserState | null;
  endUserLimits: EndUserEffectiveLimits;
  token: ClientTokenState | null;
}

export type ScopeCode = "end_user_rate_limit_exceeded" | "end_user_quota_exceeded" | "client_token_budget_exceeded";
export type ScopeCheck = { ok: true; room: number } | ScopeRefusal<ScopeCode>;

/** The pure form of shared/end-users.ts's limits. */
export function toEffective(limits: EndUserLimits): EndUserEffectiveLimits {
  return { requestsPerMinute: limits.requests_per_minute, tokensPerDay: limits.tokens_per_day, maxConcurrent: limits.max_concurrent_requests };
}

/** What the reservations in flight hold for one end user. */
export function inFlightOf(inFlight: ReadonlyMap<string, Reservation>, endUser: string): InFlightOf {
  let count = 0;
  let reservedTokens = 0;
  for (const r of inFlight.values()) {
    if (r.endUser !== endUser) continue;
    count++;
    reservedTokens += r.promptTokens + r.completionTokens;
  }
  return { count, reservedTokens };
}

/** Tokens the reservations in flight hold of one client token's budget. */
export function reservedByToken(inFlight: ReadonlyMap<string, Reservation>, tokenId: string): number {
  let sum = 0;
  for (const r of inFlight.values()) if (r.clientTokenId === tokenId) sum += r.promptTokens + r.completionTokens;
  return sum;
}

/** Checks every scope, using nothing; `room` is the fewest tokens any of them leaves. */
export function checkScopes(scopes: Scopes, inFlight: ReadonlyMap<string, Reservation>, need: ScopeNeed, now: number): ScopeCheck {
  let room = Infinity;
  if (scopes.endUser) {
    const check = checkEndUser(scopes.endUser, scopes.endUserLimits, inFlightOf(inFlight, scopes.endUser.endUser), need, now);
    if (!check.ok) return check;
    room = check.room;
  }
  if (scopes.token) {
    const check = checkTokenBudget(scopes.token, reservedByToken(inFlight, scopes.token.id), need, now);
    if (!check.ok) return check;
    room = Math.min(room, check.room);
  }
  return { ok: true, room };
}

/** Takes an admitted request from every scope (its tokens are held by its reservation). */
export function takeScopes(scopes: Scopes): void {
  if (scopes.endUser) takeEndUser(scopes.endUser);
  if (scopes.token) scopes.token.usedRequests += 1;
}

/** Counts a settled (or expired) request's real usage in every scope it was admitted in. */
export function settleScopes(scopes: Scopes, reservation: Reservation, used: number, now: number): void {
  if (scopes.endUser) settleEndUser(scopes.endUser, scopes.endUserLimits, reservation.admittedAt, used, now);
  if (scopes.token) scopes.token.usedTokens += used;
}

/**
 * The rate-limit figures a response shows: the end user's requests per minute
 * when the end user has that limit (what one student's page can act on),
 * otherwise the account's; tokens per minute are always the account's.
 */
export function scopedSnapshot(account: RateLimitSnapshot, scopes: Scopes): RateLimitSnapshot {
  if (!scopes.endUser) return account;
  const own = endUserSnapshot(scopes.endUser, scopes.endUserLimits);
  return own.requests ? { ...account, requests: own.requests } : account;
}

export type EndUserResolution = { ok: true; endUser: string | null } | { ok: false; reason: "mismatch" | "missing" };

/**
 * The request's end user: a client token's own (a body naming another is
 * refused), else the body's; none, on an account that requires one, is refused.
 */
export function resolveEndUser(bound: string | null | undefined, named: string | null | undefined, required: boolean): EndUserResolution {
  if (bound != null) return named != null && named !== bound ? { ok: false, reason: "mismatch" } : { ok: true, endUser: bound };
  if (named == null && required) return { ok: false, reason: "missing" };
  return { ok: true, endUser: named ?? null };
}
