/**
 * @module admission-rpc
 * The shapes of the account object's two hot-path calls: `admit` before a
 * generation reaches a backend, `settle` after it ends.
 */
import type { UsageStatus } from "../../shared/usage";
import type { RateLimitSnapshot } from "./limits/admission";
import type { Principal } from "./auth-service";
import type { AuthorizeRequest, AuthorizeResult } from "./account-state";

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
}

export type AdmitResponse =
  | { ok: true; principal: Principal; maxTokens: number; rateLimits: RateLimitSnapshot }
  | { ok: false; kind: "auth"; refusal: Extract<AuthorizeResult, { ok: false }> }
  | { ok: false; kind: "model" }
  /** The same Idempotency-Key and request finished before: its stored answer (JSON text). */
  | { ok: false; kind: "replay"; response: string }
  /** The key is in use by a request still running, or was sent with a different request. */
  | { ok: false; kind: "idempotency"; reason: "in_progress" | "mismatch" }
  | {
      ok: false;
      kind: "limit";
      code: "rate_limit_exceeded" | "insufficient_quota";
      message: string;
      retryAfterMs: number;
      shouldRetry: boolean;
      snapshot: RateLimitSnapshot;
    };

export interface SettleRequest {
  requestId: string;
  keyId: string;
  model: string;
  backend: string;
  mode: "live" | "test";
  /** What the client was given (see services/metering for the rules). */
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
