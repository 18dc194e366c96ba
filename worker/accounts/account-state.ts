/**
 * @module account-state
 * What an account's Durable Object knows and the pure decision it makes on
 * the hot path: may this key, from this origin, at this time, be used? Kept
 * free of storage so it can be tested directly.
 */
import type { AccountStatus, KeyMode } from "../../shared/admin";
import type { EndUserSettings } from "../../shared/end-users";
import type { LimitOverrides } from "../../shared/plans";
import type { Principal } from "./principal";

/** The account as the Durable Object holds it (a copy of its D1 row, minus the name). */
export interface AccountState {
  id: string;
  status: AccountStatus;
  plan: string;
  /** Overrides of the plan's limits (shared/plans.ts). */
  limits: LimitOverrides;
  /** Per-end-user limits and require_end_user (shared/end-users.ts); absent: none. */
  endUsers?: EndUserSettings;
}

/** One key as the Durable Object holds it. Times are Unix milliseconds. */
export interface KeyState {
  id: string;
  /** Hex SHA-256 of the secret; the secret itself is never here. */
  hash: string;
  mode: KeyMode;
  expiresAt: number | null;
  /** When it stops working; in the future during a rotation's grace. */
  revokedAt: number | null;
  rotatedTo: string | null;
  /** Public model ids; null for all. */
  models: string[] | null;
  /** Browser origins; null for any. */
  origins: string[] | null;
  lastUsedAt: number | null;
}

/**
 * The one call the hot path makes per request. An object, so the next issue
 * can add admission (model, token estimate, request id) to the same call.
 */
export interface AuthorizeRequest {
  /** The account the key routes to (also the Durable Object's name). */
  accountId: string;
  keyHash: string;
  /** The request's `Origin` header, or null when it has none (not a browser). */
  origin: string | null;
  /** Unix milliseconds; passed in so tests and the caller agree on time. */
  now: number;
  /** The bearer is a client token (`limo_ct_…`): `keyHash` is the token's hash. */
  clientToken?: boolean;
}

/** Why a key was refused; the Worker logs it, the client sees `code` and `message`. */
export type RefusalReason = "unknown_key" | "revoked" | "rotated" | "expired" | "suspended" | "origin" | "budget";

export type AuthorizeResult =
  | { ok: true; principal: Principal }
  | {
      ok: false;
      code: "invalid_api_key" | "account_suspended" | "origin_not_allowed" | "client_token_budget_exceeded";
      reason: RefusalReason;
      message: string;
      keyId?: string;
    };

const UNKNOWN_KEY_MESSAGE = "Incorrect API key provided.";

/**
 * Decides one request. Order matters: whoever does not hold a valid secret
 * learns nothing about the account (401 before 403), and a key's own state
 * comes before its account's.
 */
export function decide(account: AccountState | null, key: KeyState | undefined, request: AuthorizeRequest): AuthorizeResult {
  if (!account || !key) return { ok: false, code: "invalid_api_key", reason: "unknown_key", message: UNKNOWN_KEY_MESSAGE };
  const keyId = key.id;
  if (key.revokedAt !== null && key.revokedAt <= request.now) {
    return key.rotatedTo
      ? { ok: false, code: "invalid_api_key", reason: "rotated", keyId, message: "This API key was rotated and its grace period has ended. Use the new key." }
      : { ok: false, code: "invalid_api_key", reason: "revoked", keyId, message: "This API key has been revoked." };
  }
  if (key.expiresAt !== null && key.expiresAt <= request.now) {
    return { ok: false, code: "invalid_api_key", reason: "expired", keyId, message: "This API key has expired." };
  }
  if (account.status !== "active") {
    return { ok: false, code: "account_suspended", reason: "suspended", keyId, message: "This account is suspended. Contact support to restore access." };
  }
  if (request.origin !== null && key.origins !== null && !key.origins.includes(request.origin)) {
    return { ok: false, code: "origin_not_allowed", reason: "origin", keyId, message: "This API key may not be used from this origin." };
  }
  return { ok: true, principal: { accountId: account.id, keyId, mode: key.mode, models: key.models } };
}

/** The earlier of two revocation times: a revocation, once anywhere, is never undone by a sync. */
export function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
