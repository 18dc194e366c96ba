/**
 * @module completion-service
 * `POST /v1/chat/completions` and `/v1/completions` once the route has parsed
 * and prepared the request: one call to the account's object that authorizes
 * the key and admits the request against its limits (or finds the answer an
 * Idempotency-Key retry gets again), then the generation, owned by a
 * generation object or on the direct path (durable-plan decides).
 */
import type { VoteOption } from "../../shared/answers";
import type { CacheInputs } from "./cache-key";
import { endUserOf, endUserParam, type EndUserFields } from "../accounts/end-users/end-user";
import { admitGeneration } from "../accounts/limits/admission-service";
import type { Credential } from "../accounts/principal";
import type { Env } from "../env";
import type { Deployment } from "../routing/catalogue";
import { generateDirect } from "./direct-generation-service";
import { durablePlan } from "./durable-plan";
import { prepareGenerationObject, runDurableGeneration } from "./durable-generation-service";
import { withMaxTokens, type PreparedRequest } from "./prepare";
import { replayResponse } from "./replay";

/** The fields of a validated generation request the service reads beyond the prepared one. */
export type CompletionRequest = CacheInputs & EndUserFields & { background?: boolean | null; vote?: VoteOption | null };

export interface CompletionAsk {
  requestId: string;
  /** The key as checked offline; the admission call authorizes it. */
  credential: Credential;
  deployment: Deployment;
  /** The backend request, LIMO's defaults applied. */
  prepared: PreparedRequest;
  request: CompletionRequest;
  /** The `Cache-Control` header (no-cache, no-store). */
  cacheControl: string | undefined;
  /** An `Idempotency-Key` and the fingerprint of the request it came with. */
  idempotency?: { key: string; fingerprint: string };
  /** When the request was admitted, Unix ms: the reservation's and the ledger record's start. */
  admittedAt: number;
  clientSignal: AbortSignal;
  waitUntil: (promise: Promise<unknown>) => void;
}

export async function createCompletion(env: Env, ask: CompletionAsk): Promise<Response> {
  const { prepared, requestId, idempotency } = ask;
  // Streamed, cacheable and background requests are owned by a generation object (the plan does not
  // depend on the granted max_tokens). An uncached one's object is made while admission runs.
  const plan = durablePlan(prepared, ask.request, ask.cacheControl, env);
  const early = prepareGenerationObject(env, plan, ask.waitUntil);
  const admissionStartedAt = Date.now();
  const admission = await admitGeneration(env, ask.credential, {
    idempotency,
    requestId,
    model: prepared.model.id,
    promptTokens: prepared.promptTokensEstimate,
    n: prepared.n,
    maxTokens: prepared.maxTokens,
    maxTokensFlexible: prepared.maxTokensFlexible,
    now: ask.admittedAt,
    endUser: endUserOf(ask.request),
    endUserParam: endUserParam(ask.request),
  }).catch((err: unknown) => {
    early?.discard();
    throw err;
  });
  // Where a request's time to first byte goes (Server-Timing, read by `npm run bench`): the admission call here.
  const timing = `admission;dur=${Date.now() - admissionStartedAt}`;
  if (admission.kind === "replay") {
    early?.discard();
    return replayResponse(admission.body, prepared, { "idempotent-replayed": "true", "x-cache": "HIT" });
  }
  const granted = withMaxTokens(prepared, admission.maxTokens);
  const voted = ask.request.vote != null && ask.request.vote !== false;
  if (plan) {
    return runDurableGeneration(env, {
      plan,
      prepared: granted,
      principal: admission.principal,
      requestId,
      clientSignal: ask.clientSignal,
      headers: admission.headers,
      serverTiming: timing,
      preparedName: early?.name,
      idempotencyKey: idempotency?.key,
      vote: voted,
      admittedAt: ask.admittedAt,
      waitUntil: ask.waitUntil,
    });
  }
  return generateDirect(granted, {
    env,
    requestId,
    deployment: ask.deployment,
    principal: admission.principal,
    waitUntil: ask.waitUntil,
    clientSignal: ask.clientSignal,
    idempotencyKey: idempotency?.key,
    vote: voted,
    headers: { ...admission.headers, "x-cache": "MISS", "server-timing": timing },
  });
}
