/**
 * @module admission-service
 * The generation hot path's one Durable Object call: authorize the key, check
 * the account's limits and reserve the request's worst case, all in the
 * account's object. Refusals become OpenAI-shaped errors with the headers
 * OpenAI's clients understand (`Retry-After`, `retry-after-ms`,
 * `x-should-retry`, `x-ratelimit-*`).
 */
import type { AdmitRequest, AdmitResponse } from "../account-rpc";
import type { RateLimitSnapshot } from "./admission";
import { formatResetDuration } from "./token-bucket";
import type { ChatCompletion, Completion } from "../../../shared/openai";
import { ApiError } from "../../core/errors";
import { refusal, withDevSeed, type AuthEnv } from "../auth-service";
import type { Credential, Principal } from "../principal";

export interface Admission {
  kind: "admitted";
  principal: Principal;
  /** Completion tokens per choice granted (lower than asked when max_tokens was flexible). */
  maxTokens: number;
  /** `x-ratelimit-*` headers for the response. */
  headers: Record<string, string>;
}

/** An Idempotency-Key retry of a request that already finished: its answer, billed once. */
export interface Replay {
  kind: "replay";
  body: ChatCompletion | Completion;
}

export type AdmissionAsk = Omit<AdmitRequest, "accountId" | "keyHash" | "origin" | "clientToken"> & {
  /** The body field that named the end user, for a refusal's `param`. */
  endUserParam?: "safety_identifier" | "user";
};

export async function admitGeneration(env: AuthEnv, credential: Credential, ask: AdmissionAsk): Promise<Admission | Replay> {
  const { endUserParam = "safety_identifier", ...rest } = ask;
  const request: AdmitRequest = {
    ...rest,
    accountId: credential.accountId,
    keyHash: credential.keyHash,
    origin: credential.origin,
    clientToken: credential.clientToken === true,
  };
  const result = await withDevSeed<AdmitResponse>(env, credential, async (account) => (await account.admit(request)) as AdmitResponse);
  if (result.ok) {
    return { kind: "admitted", principal: result.principal, maxTokens: result.maxTokens, headers: rateLimitHeaders(result.rateLimits) };
  }
  switch (result.kind) {
    case "replay":
      return { kind: "replay", body: JSON.parse(result.response) as ChatCompletion | Completion };
    case "idempotency":
      throw result.reason === "in_progress"
        ? new ApiError("conflict", "A request with this Idempotency-Key is still in progress. Retry once it has finished.", {
            headers: { "retry-after": "1" },
          })
        : new ApiError("invalid_request", "This Idempotency-Key was already used with a different request body.", {
            param: "Idempotency-Key",
          });
    case "auth":
      throw refusal(result.refusal, credential.accountId);
    case "end_user":
      throw result.reason === "mismatch"
        ? new ApiError("invalid_value", `This client token is for one end user; '${endUserParam}' must be absent or name that end user.`, { param: endUserParam })
        : new ApiError(
            "missing_required_parameter",
            "This account requires an end user on every request: set 'safety_identifier' (at most 64 characters; a hash of your user id).",
            { param: "safety_identifier" },
          );
    case "model":
      // As if the model did not exist: a restricted key learns nothing about the others.
      throw new ApiError("model_not_found", `The model '${ask.model}' does not exist or you do not have access to it.`, { param: "model" });
    case "limit": {
      const headers = rateLimitHeaders(result.snapshot);
      headers["retry-after"] = String(Math.ceil(result.retryAfterMs / 1000));
      headers["retry-after-ms"] = String(result.retryAfterMs);
      if (!result.shouldRetry) headers["x-should-retry"] = "false";
      throw new ApiError(result.code, result.message, { headers });
    }
  }
}

/** OpenAI's rate-limit headers for the limits the account has. */
export function rateLimitHeaders(snapshot: RateLimitSnapshot): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const unit of ["requests", "tokens"] as const) {
    const figures = snapshot[unit];
    if (!figures) continue;
    headers[`x-ratelimit-limit-${unit}`] = String(figures.limit);
    headers[`x-ratelimit-remaining-${unit}`] = String(Math.max(0, figures.remaining));
    headers[`x-ratelimit-reset-${unit}`] = formatResetDuration(figures.resetMs);
  }
  return headers;
}
