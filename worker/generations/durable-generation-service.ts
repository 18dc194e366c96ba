/**
 * @module generations
 * Durable generations on the Worker side: which admitted requests a
 * generation object owns, and turning its answer into the client's response.
 *
 * The choice: a request goes through a generation object when it streams
 * (every SSE response must be resumable: `x-generation-id` and `id:` on every
 * event), is cacheable (identical requests must meet in one object), or runs
 * in the background. A plain non-streaming, uncacheable request keeps the
 * direct path (services/generate): its JSON cannot be resumed, so a second
 * Durable Object round trip would buy it nothing.
 */
import { DISCONNECT_GRACE_MS, type CacheVerdict } from "../../shared/generations";
import { generationObject } from "./generation-do";
import type { JsonOutcome, StartResult, WireError } from "./generation-rpc";
import type { Env } from "../env";
import { ApiError, ClientGoneError } from "../core/errors";
import type { Principal } from "../accounts/auth-service";
import { cacheKey, cachePolicy, type CacheInputs, type CachePolicy } from "./cache-key";
import { SSE_HEADERS } from "./direct-generation-service";
import type { PreparedRequest } from "./prepare";

export interface DurablePlan {
  background: boolean;
  cache: CachePolicy | null;
}

/** How a request is to be generated: null for the direct path. */
export function durablePlan(
  prepared: PreparedRequest,
  request: CacheInputs & { background?: boolean | null },
  cacheControl: string | undefined,
  env: Pick<Env, "CACHE_TTL_SECONDS">,
): DurablePlan | null {
  const cache = cachePolicy(request, cacheControl, positiveInt(env.CACHE_TTL_SECONDS));
  const background = request.background === true;
  if (!prepared.stream && !background && !cache) return null;
  return { background, cache };
}

export interface DurableRun {
  plan: DurablePlan;
  /** The request with the granted max_tokens. */
  prepared: PreparedRequest;
  principal: Principal;
  requestId: string;
  clientSignal: AbortSignal;
  /** Rate-limit headers. */
  headers: Record<string, string>;
  idempotencyKey?: string;
  admittedAt: number;
  /** Keeps the Worker alive for work after the response (telling the object a client left). */
  waitUntil: (promise: Promise<unknown>) => void;
}

/** Hands an admitted request to its generation object and answers in the client's mode. */
export async function runDurableGeneration(env: Env, run: DurableRun): Promise<Response> {
  const { plan, prepared, principal } = run;
  const name = plan.cache
    ? await cacheKey(principal.accountId, plan.cache.scope, prepared.path, prepared.backendBody)
    : randomName();
  const object = generationObject(env, name);
  // A client that leaves before the backend answered must still stop the generation it started.
  const onAbort = () => run.waitUntil(object.abandon(run.requestId, graceMs(env)).catch(() => {}));
  run.clientSignal.addEventListener("abort", onAbort);
  const started = object.start({
    name,
    cache: plan.cache ? { read: plan.cache.read, ttlSeconds: plan.cache.ttlSeconds } : null,
    background: plan.background,
    graceMs: graceMs(env),
    routing: {
      backends: env.BACKENDS,
      vars: {
        COLD_START_BUDGET_MS: env.COLD_START_BUDGET_MS,
        TTFT_TIMEOUT_MS: env.TTFT_TIMEOUT_MS,
        STREAM_IDLE_TIMEOUT_MS: env.STREAM_IDLE_TIMEOUT_MS,
        BACKEND_BUSY_WAIT_MS: env.BACKEND_BUSY_WAIT_MS,
        KEEPALIVE_INTERVAL_MS: env.KEEPALIVE_INTERVAL_MS,
        STREAM_COALESCE_MS: env.STREAM_COALESCE_MS,
      },
    },
    path: prepared.path,
    endpoint: prepared.endpoint,
    backendBody: prepared.backendBody,
    ticket: {
      requestId: run.requestId,
      accountId: principal.accountId,
      keyId: principal.keyId,
      mode: principal.mode,
      model: prepared.model.id,
      promptTokensEstimate: prepared.promptTokensEstimate,
      streaming: prepared.stream,
      includeUsage: prepared.includeUsage,
      idempotencyKey: run.idempotencyKey,
      admittedAt: run.admittedAt,
    },
  });
  let result: StartResult;
  try {
    result = (await started) as StartResult;
  } finally {
    run.clientSignal.removeEventListener("abort", onAbort);
  }
  if (run.clientSignal.aborted) {
    if (result.kind === "stream") await result.stream.cancel().catch(() => {});
    throw new ClientGoneError();
  }
  if (result.kind === "error") throw fromWire(result.error);
  const headers = { ...run.headers, ...generationHeaders(result.id, result.cache) };
  if (result.kind === "accepted") return Response.json(result.generation, { status: 202, headers });
  if (prepared.stream) return new Response(result.stream, { headers: { ...SSE_HEADERS, ...headers } });
  const outcome = JSON.parse(await readAll(result.stream, run.clientSignal)) as JsonOutcome;
  if (!outcome.ok) throw fromWire(outcome.error);
  return Response.json(outcome.body, { headers });
}

export function generationHeaders(id: string, cache: CacheVerdict): Record<string, string> {
  return { "x-generation-id": id, "x-cache": cache };
}

/** How long a foreground generation waits for a reconnect, in ms. */
export function graceMs(env: Pick<Env, "GENERATION_GRACE_MS">): number {
  return positiveInt(env.GENERATION_GRACE_MS) ?? DISCONNECT_GRACE_MS;
}

export function fromWire(error: WireError): ApiError {
  return new ApiError(error.code, error.message, { param: error.param, headers: error.headers });
}

function positiveInt(text: string | undefined): number | undefined {
  const n = text ? Number(text) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** 32 random hex characters: an uncached generation's object. */
function randomName(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** The whole stream as text; a client that leaves cancels it (the object then knows). */
async function readAll(stream: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<string> {
  const reader = stream.getReader();
  const onAbort = () => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort);
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    if (!signal.aborted) throw new ApiError("internal_error", "The server had an error while processing your request.");
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (signal.aborted) throw new ClientGoneError();
  return text + decoder.decode();
}
