/**
 * @module account-rpc
 * The account object's contract: the RPC interface `AccountDO` implements
 * and `Env.ACCOUNTS` is typed by, the shapes of its hot-path calls (`admit`
 * before a generation reaches a backend, `settle` after it ends), and how to
 * reach it. Callers name this module, never the object's class.
 */
import type { RefusalCount } from "../../shared/refusals";
import type { UsageEndpoint, UsageRecord, UsageStatus } from "../../shared/usage";
import { log } from "../core/log";
import type { AccountState, AuthorizeRequest, AuthorizeResult, KeyState } from "./account-state";
import type { ClientTokenState } from "./client-tokens/client-token-state";
import type { ScopeCode } from "./end-users/scoped-admission";
import type { RateLimitSnapshot } from "./limits/admission";
import type { Principal } from "./principal";

/** What the account object answers (accounts/account-do.ts has the reasons behind each call). */
export interface AccountRpc extends Rpc.DurableObjectBranded {
  /** May this key be used, now, from this origin? (Routes that generate nothing.) */
  authorize(request: AuthorizeRequest): Promise<AuthorizeResult>;
  /** Authorizes the key, checks every limit and reserves the request's worst case, atomically. */
  admit(request: AdmitRequest): Promise<AdmitResponse>;
  /** Ends an admitted request: its one ledger entry, the reservation released. Durable when it returns. */
  settle(request: SettleRequest): Promise<void>;
  /** The rate-limit headers' figures, without using anything. */
  rateLimits(now: number): Promise<RateLimitSnapshot>;
  /** Copies every pending ledger entry to D1 now. */
  flushUsage(): Promise<void>;
  /** The ledger as the object holds it, newest first. */
  ledger(): Promise<LedgerEntry[]>;
  /** Requests admitted and not yet settled. */
  inFlight(): Promise<number>;
  /** Reloads the account from D1; returns whether it exists. */
  sync(accountId: string): Promise<boolean>;
  putAccount(account: AccountState): Promise<void>;
  putKey(accountId: string, key: KeyState): Promise<void>;
  /** Revokes a key from `revokedAt` on; false when the object does not know it. */
  revokeKey(accountId: string, keyId: string, revokedAt: number, rotatedTo?: string | null): Promise<boolean>;
  /** Counts refusals the Worker decided for requests made with this key (ignored unless the key is the account's). */
  recordRefusals(accountId: string, keyHash: string, refusals: RefusalEvent[]): Promise<void>;
  /** Refused requests by status and code, over the minutes in from ≤ t < to (Unix ms). */
  refusals(from: number, to: number): Promise<RefusalCount[]>;
  /** Stores a new client token (its hash) for the presenting key, if that key may mint it. */
  mintClientToken(request: MintClientTokenRequest): Promise<MintClientTokenResult>;
}

/** Refusals of one status and code in one minute, as an isolate batches them. */
export interface RefusalEvent {
  at: number;
  status: number;
  code: string;
  count: number;
}

/** A client token to store: the presenting API key is authorized again, and the token takes its id and mode. */
export interface MintClientTokenRequest extends AuthorizeRequest {
  token: Omit<ClientTokenState, "keyId" | "mode" | "usedTokens" | "usedRequests">;
}

export type MintClientTokenResult =
  | { ok: true; token: ClientTokenState }
  | { ok: false; kind: "auth"; refusal: Extract<AuthorizeResult, { ok: false }> }
  /** The token asks for a model or an origin its key does not allow. */
  | { ok: false; kind: "scope"; param: "models" | "origins"; value: string };

/** Where the account object is: its id comes from the account id, so no lookup is needed. */
export interface AccountsBinding {
  ACCOUNTS: DurableObjectNamespace<AccountRpc>;
}

/** The stub of an account's object. */
export function accountObject(env: AccountsBinding, accountId: string): DurableObjectStub<AccountRpc> {
  return env.ACCOUNTS.get(env.ACCOUNTS.idFromName(accountId));
}

/** A ledger entry as the object stores it (the account id is the object's own). */
export type LedgerEntry = Omit<UsageRecord, "account_id">;

export interface AdmitRequest extends AuthorizeRequest {
  /** Our x-request-id: the reservation's and the ledger entry's key. */
  requestId: string;
  /** Public model id (checked against the key's allowed models). */
  model: string;
  /** Conservative prompt estimate, in tokens. */
  promptTokens: number;
  n: number;
  /** Completion tokens per choice the request wants. */
  maxTokens: number;
  /** The client did not set max_tokens: it may be lowered to fit the limits. */
  maxTokensFlexible: boolean;
  /** An `Idempotency-Key` and the fingerprint of the request it was sent with. */
  idempotency?: { key: string; fingerprint: string };
  /** The end user the body names (end-users/end-user.ts), or null. */
  endUser?: string | null;
}

export type AdmitResponse =
  | { ok: true; principal: Principal; maxTokens: number; rateLimits: RateLimitSnapshot }
  | { ok: false; kind: "auth"; refusal: Extract<AuthorizeResult, { ok: false }> }
  | { ok: false; kind: "model" }
  /** The same Idempotency-Key and request finished before: its stored answer (JSON text). */
  | { ok: false; kind: "replay"; response: string }
  /** The key is in use by a request still running, or was sent with a different request. */
  | { ok: false; kind: "idempotency"; reason: "in_progress" | "mismatch" }
  /** The body names another end user than the client token's, or none on an account that requires one. */
  | { ok: false; kind: "end_user"; reason: "mismatch" | "missing" }
  | {
      ok: false;
      kind: "limit";
      code: "rate_limit_exceeded" | "insufficient_quota" | ScopeCode;
      message: string;
      retryAfterMs: number;
      shouldRetry: boolean;
      snapshot: RateLimitSnapshot;
    };

export interface SettleRequest {
  requestId: string;
  keyId: string;
  /** The request's end user (null: none); the ledger entry carries it. */
  endUser?: string | null;
  model: string;
  /** The endpoint the request called; the ledger entry carries it. */
  endpoint?: UsageEndpoint | null;
  backend: string;
  mode: "live" | "test";
  /** What the client was given (accounts/ledger/settlement.ts has the rules). */
  promptTokens: number;
  completionTokens: number;
  cached: boolean;
  status: UsageStatus;
  ttftMs: number | null;
  durationMs: number;
  now: number;
  /** The Idempotency-Key to finish: the answer to replay (JSON text), or null to let a retry run again. */
  idempotency?: { key: string; response: string | null };
}

/** Settle attempts before leaving it to the reservation's expiry alarm. */
const SETTLE_ATTEMPTS = 3;
const SETTLE_RETRY_DELAY_MS = 200;

/**
 * Writes one request's usage record through its account's object, retrying a
 * few times; if every attempt fails, the reservation's expiry alarm settles it
 * (conservatively), so nothing is lost. The direct path and the generation
 * object both settle through here, with a record from ledger/settlement.
 */
export async function settleUsage(env: AccountsBinding, accountId: string, request: SettleRequest): Promise<void> {
  const account = accountObject(env, accountId);
  for (let attempt = 1; ; attempt++) {
    try {
      await account.settle(request);
      return;
    } catch (err) {
      if (attempt >= SETTLE_ATTEMPTS) {
        log("error", "settling usage failed", { requestId: request.requestId, error: String(err) });
        return;
      }
      await new Promise((r) => setTimeout(r, SETTLE_RETRY_DELAY_MS * attempt));
    }
  }
}
