/**
 * @module settlement
 * Billing, written once: the one usage record (`SettleRequest`) of an
 * admitted request, from how its generation ended. The direct JSON path
 * (generations/direct-generation-service) and the generation object
 * (generations/generation-do) both build their records here; they differ only
 * in what they know (what was relayed, whether the answer came from another
 * request's generation). Pure: tests/unit/settlement.test.ts covers every status.
 *
 * The record says what the client was given:
 * - `ok`: the backend's own usage chunk.
 * - `client_disconnected`: the prompt (the backend's count when the generation
 *   completed, else our conservative estimate: the backend never sent its
 *   count) and the completion tokens given before the client left (the usage
 *   chunk's count when it was given every event).
 * - `backend_error` / `timeout`: only the completion tokens given; no prompt,
 *   since we failed to give the answer.
 * - A client that does not stream is given nothing short of the whole answer
 *   (`givenTokens`).
 * - An answer from another request's generation (a cache hit, a coalesced
 *   join) is `cached`, from backend `cache`, with no time to first token.
 * - Only a whole answer is kept for an Idempotency-Key retry; after any other
 *   end the key is released, so a retry runs again.
 * - An answer check (`POST /v1/answers/check`) uses no model and no tokens:
 *   a zero-token record whose model is `answers.check` (`checkSettlement`).
 */
import type { ChatCompletion, Completion, Usage } from "../../../shared/openai";
import type { UsageEndpoint, UsageStatus } from "../../../shared/usage";
import { ANSWER_CHECK_MODEL } from "../../../shared/answers";
import type { SettleRequest } from "../account-rpc";

/** The backend a record names when its answer came from another request's generation. */
export const CACHE_BACKEND = "cache";

/** The admitted request a record is for. */
export interface SettledRequest {
  requestId: string;
  keyId: string;
  /** The request's end user (the ledger's `end_user`), null when none. */
  endUser?: string | null;
  mode: "live" | "test";
  /** Public model id. */
  model: string;
  /** The endpoint the request called (the ledger's `endpoint`). */
  endpoint?: UsageEndpoint | null;
  promptTokensEstimate: number;
  idempotencyKey?: string;
  /** Where the request's clock starts, Unix ms: its duration and time to first token count from here. */
  startedAt: number;
}

/** How the request's generation ended, as far as billing goes. */
export interface GenerationEnd {
  status: UsageStatus;
  /** The backend's usage chunk, when the generation completed (null otherwise). */
  usage: Usage | null;
  /** Completion tokens the client was given (see givenTokens). */
  givenTokens: number;
  /** The client was given every event, so the usage chunk counts what it got. */
  givenAll: boolean;
  /** The answer came from another request's generation (a cache hit or a coalesced join). */
  cached: boolean;
  /** The backend that answered, or the last one tried. */
  backend: string;
  /** When the first token arrived (Unix ms), null if none did. */
  firstTokenAt: number | null;
  /** The whole answer, kept for an Idempotency-Key retry: asked for only when the request has a key and ended `ok`. */
  answer?: () => ChatCompletion | Completion | null;
}

/** What a client was given of `relayed` tokens: all of them on a stream, none short of the whole answer otherwise. */
export function givenTokens(streamed: boolean, relayed: number): number {
  return streamed ? relayed : 0;
}

/** The prompt and completion tokens a record bills. */
export function billedTokens(
  end: Pick<GenerationEnd, "status" | "usage" | "givenTokens" | "givenAll">,
  promptTokensEstimate: number,
): { promptTokens: number; completionTokens: number } {
  const { usage } = end;
  switch (end.status) {
    case "ok":
      return { promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? end.givenTokens };
    case "client_disconnected":
      return {
        promptTokens: usage?.prompt_tokens ?? promptTokensEstimate,
        completionTokens: usage !== null && end.givenAll ? usage.completion_tokens : end.givenTokens,
      };
    case "backend_error":
    case "timeout":
      return { promptTokens: 0, completionTokens: end.givenTokens };
  }
}

/** The one usage record of `request`, ended as `end`, at `now`. */
export function settlement(request: SettledRequest, end: GenerationEnd, now: number): SettleRequest {
  const { promptTokens, completionTokens } = billedTokens(end, request.promptTokensEstimate);
  const key = request.idempotencyKey;
  const answer = key && end.status === "ok" ? (end.answer?.() ?? null) : null;
  return {
    requestId: request.requestId,
    keyId: request.keyId,
    endUser: request.endUser ?? null,
    model: request.model,
    endpoint: request.endpoint ?? null,
    backend: end.cached ? CACHE_BACKEND : end.backend,
    mode: request.mode,
    promptTokens,
    completionTokens,
    cached: end.cached,
    status: end.status,
    ttftMs: end.cached || end.firstTokenAt === null ? null : Math.max(0, end.firstTokenAt - request.startedAt),
    durationMs: now - request.startedAt,
    now,
    idempotency: key ? { key, response: answer ? JSON.stringify(answer) : null } : undefined,
  };
}

/** The backend an answer check's record names: the checker, in the Worker. */
export const CHECKER_BACKEND = "checker";

/** The one record of an answer check: no tokens (checks count against requests per minute only). */
export function checkSettlement(request: Omit<SettledRequest, "model" | "endpoint" | "promptTokensEstimate" | "idempotencyKey">, status: UsageStatus, now: number): SettleRequest {
  return {
    requestId: request.requestId,
    keyId: request.keyId,
    endUser: request.endUser ?? null,
    model: ANSWER_CHECK_MODEL,
    endpoint: "answers.check",
    backend: CHECKER_BACKEND,
    mode: request.mode,
    promptTokens: 0,
    completionTokens: 0,
    cached: false,
    status,
    ttftMs: null,
    durationMs: now - request.startedAt,
    now,
  };
}
