/**
 * @module durable-generation-service
 * Durable generations on the Worker side: hands an admitted request to its
 * generation object (durable-plan decides which requests go there) and turns
 * the object's answer into the client's response; reads, resumes and cancels
 * a generation by its id for the account that asked for it.
 */
import type { CacheVerdict, GenerationObject } from "../../shared/generations";
import type { Principal } from "../accounts/principal";
import { ApiError, ClientGoneError } from "../core/errors";
import { SSE_HEADERS } from "../core/sse-headers";
import type { Env } from "../env";
import { cacheKey } from "./cache-key";
import { graceMs, type DurablePlan } from "./durable-plan";
import { fromWireError, generationObject, parseGenerationId, type JsonOutcome, type StartResult } from "./generation-rpc";
import type { PreparedRequest } from "./prepare";
import { isolateSpare, randomObjectName, type SpareObject } from "./spare-object";

export interface DurableRun {
  plan: DurablePlan;
  /** The request with the granted max_tokens. */
  prepared: PreparedRequest;
  principal: Principal;
  requestId: string;
  clientSignal: AbortSignal;
  /** Rate-limit headers. */
  headers: Record<string, string>;
  /** An uncached run's object made during admission (prepareGenerationObject). */
  preparedName?: string;
  /** Server-Timing entries so far (the admission call); the object's start is added. */
  serverTiming?: string;
  idempotencyKey?: string;
  /** The request asked for `vote`. */
  vote?: boolean;
  admittedAt: number;
  /** Keeps the Worker alive for work after the response (telling the object a client left). */
  waitUntil: (promise: Promise<unknown>) => void;
}

/**
 * An uncached generation's object, made while its request's admission call is
 * in flight, or earlier: the isolate's spare (spare-object) when it has one.
 * Its name is random, so nothing else can reach it. The request
 * reaches no backend before admission: `start` is called only after it.
 * Null when the plan is cached (the name depends on the granted request).
 */
export interface PreparedObject {
  name: string;
  /** Resolves once the object exists (rejections are the start's to see). */
  ready: Promise<void>;
  /** The request was refused or replayed: forget the object. */
  discard(): void;
}

export function prepareGenerationObject(
  env: Pick<Env, "GENERATIONS">,
  plan: DurablePlan | null,
  waitUntil: (promise: Promise<unknown>) => void,
  spare: SpareObject = isolateSpare,
): PreparedObject | null {
  if (!plan || plan.cache) return null;
  const taken = spare.take();
  const name = taken ?? randomObjectName();
  const object = generationObject(env, name);
  // A spare exists already (its refill made it); a new name's object is made while admission runs.
  const ready = taken !== null ? Promise.resolve() : object.prepare().catch(() => {});
  return { name, ready, discard: () => waitUntil(ready.then(() => object.discard()).catch(() => {})) };
}

/** Hands an admitted request to its generation object and answers in the client's mode. */
export async function runDurableGeneration(env: Env, run: DurableRun): Promise<Response> {
  const { plan, prepared, principal } = run;
  const name = plan.cache
    ? await cacheKey(principal.accountId, plan.cache.scope, prepared.path, prepared.backendBody)
    : (run.preparedName ?? randomObjectName());
  const startedAt = Date.now();
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
        ROUTING_POLICY: env.ROUTING_POLICY,
        ROUTING_HOLD_MS: env.ROUTING_HOLD_MS,
        ROUTING_EXPECTED_ANSWER_TOKENS: env.ROUTING_EXPECTED_ANSWER_TOKENS,
      },
    },
    path: prepared.path,
    endpoint: prepared.endpoint,
    backendBody: prepared.backendBody,
    ticket: {
      requestId: run.requestId,
      accountId: principal.accountId,
      keyId: principal.keyId,
      endUser: principal.endUser ?? null,
      mode: principal.mode,
      model: prepared.model.id,
      endpoint: prepared.ledgerEndpoint,
      promptTokensEstimate: prepared.promptTokensEstimate,
      streaming: prepared.stream,
      includeUsage: prepared.includeUsage,
      vote: run.vote === true,
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
  if (result.kind === "error") throw fromWireError(result.error);
  // This one took the isolate's spare object (or made its own): the next uncached generation gets a new one.
  if (run.preparedName !== undefined) isolateSpare.refill(env, run.waitUntil);
  // The generation object's start: creating it, choosing a backend and the backend's answer (its headers).
  // Inside it, for a run this request started: until a backend was chosen, then until it answered.
  const inside = result.kind === "stream" && result.timing ? [`backend-choice;dur=${result.timing.choiceMs}`, `backend-answer;dur=${result.timing.backendMs}`] : [];
  const timing = [run.serverTiming, `generation-start;dur=${Date.now() - startedAt}`, ...inside].filter(Boolean).join(", ");
  const headers = { ...run.headers, ...generationHeaders(result.id, result.cache), "server-timing": timing };
  if (result.kind === "accepted") return Response.json(result.generation, { status: 202, headers });
  if (prepared.stream) return new Response(result.stream, { headers: { ...SSE_HEADERS, ...headers } });
  const outcome = JSON.parse(await readAll(result.stream, run.clientSignal)) as JsonOutcome;
  if (!outcome.ok) throw fromWireError(outcome.error);
  return Response.json(outcome.body, { headers });
}

function generationHeaders(id: string, cache: CacheVerdict): Record<string, string> {
  return { "x-generation-id": id, "x-cache": cache };
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

/** A generation's id, read for `accountId`: to anyone but the account that asked for it, it does not exist. */
function notFound(id: string): ApiError {
  return new ApiError("not_found", `No generation with id '${id}' (it may have expired).`, { param: "id" });
}

function target(env: Pick<Env, "GENERATIONS">, id: string) {
  const parsed = parseGenerationId(id);
  if (!parsed) throw notFound(id);
  return { object: generationObject(env, parsed.name), ...parsed };
}

/** `GET /v1/generations/{id}`: the status, and the answer once completed. */
export async function getGeneration(env: Pick<Env, "GENERATIONS">, accountId: string, id: string): Promise<GenerationObject> {
  const { object, name, run } = target(env, id);
  const generation = (await object.describe(accountId, name, run)) as GenerationObject | null;
  if (!generation) throw notFound(id);
  return generation;
}

/** `GET /v1/generations/{id}/stream`: the events after the `Last-Event-ID` header's (absent: from the start), as SSE. */
export async function streamGeneration(
  env: Pick<Env, "GENERATIONS" | "GENERATION_GRACE_MS">,
  accountId: string,
  id: string,
  lastEventIdHeader: string | undefined,
): Promise<ReadableStream<Uint8Array>> {
  const { object, name, run } = target(env, id);
  const stream = await object.stream(accountId, name, run, lastEventId(lastEventIdHeader), graceMs(env));
  if (!stream) throw notFound(id);
  return stream;
}

/** `Last-Event-ID`: the id of the last event the client has (0 or absent: none). */
function lastEventId(header: string | undefined): number {
  if (header === undefined || header.trim() === "") return 0;
  if (!/^\d{1,9}$/.test(header.trim())) {
    throw new ApiError("invalid_value", "The Last-Event-ID header must be an event id from this stream.", { param: "Last-Event-ID" });
  }
  return Number(header.trim());
}

/** Forgets an ended generation now (a Responses request with `store: false`); false when it is not there, running, read or cached. */
export async function forgetGeneration(env: Pick<Env, "GENERATIONS">, accountId: string, id: string): Promise<boolean> {
  const { object, name, run } = target(env, id);
  return object.forget(accountId, name, run);
}

/** `POST /v1/generations/{id}/cancel`: stops a running generation and its GPU work. */
export async function cancelGeneration(env: Pick<Env, "GENERATIONS">, accountId: string, id: string): Promise<GenerationObject> {
  const { object, name, run } = target(env, id);
  const generation = (await object.cancel(accountId, name, run)) as GenerationObject | null;
  if (!generation) throw notFound(id);
  return generation;
}
