/**
 * @module generation-rpc
 * The generation object's contract: the RPC interface `GenerationDO`
 * implements and `Env.GENERATIONS` is typed by, the shapes of its calls, the
 * generation ids that name a run, how errors cross the boundary, and how to
 * reach an object. Callers name this module, never the object's class.
 */
import type { ErrorCode } from "../../shared/errors";
import type { UsageEndpoint } from "../../shared/usage";
import type { CacheVerdict, GenerationObject } from "../../shared/generations";
import { ApiError } from "../core/errors";
import { log } from "../core/log";
import type { RoutingVars } from "../core/vars";
import type { Endpoint } from "./prepare";

/** What a generation object answers (generations/generation-do.ts has the reasons). */
export interface GenerationRpc extends Rpc.DurableObjectBranded {
  /**
   * Nothing, once the object is set up: called while the request's admission
   * call is in flight, so that making the object (its SQLite schema) is off
   * the stream's critical path. Never reaches a backend.
   */
  prepare(): Promise<void>;
  /** Forgets a prepared object whose request was then refused or replayed: no run, so no storage is kept. */
  discard(): Promise<void>;
  /** Starts a generation, joins the running one, or replays the finished one (a cache hit). */
  start(request: StartRequest): Promise<StartResult>;
  /** The client of a request still waiting for the backend went away: as a disconnect. */
  abandon(requestId: string, graceMs: number): Promise<void>;
  /** The generation object, or null when it does not exist for this account. */
  describe(accountId: string, name: string, runNo: number): Promise<GenerationObject | null>;
  /** The run's events after `lastEventId` (0: from the start), or null when it does not exist for this account. */
  stream(accountId: string, name: string, runNo: number, lastEventId: number, graceMs: number): Promise<ReadableStream<Uint8Array> | null>;
  /** Cancels a running generation (and its backend call); null when it does not exist for this account. */
  cancel(accountId: string, name: string, runNo: number): Promise<GenerationObject | null>;
  /**
   * Forgets an ended, uncached run nobody is reading (its events and metadata), as a Responses request with
   * `store: false` asks; false when it is not there for this account, still running, read, or cached.
   */
  forget(accountId: string, name: string, runNo: number): Promise<boolean>;
}

export interface GenerationsBinding {
  GENERATIONS: DurableObjectNamespace<GenerationRpc>;
}

/** A generation object's stub, by its name (a cache key, or a random id). */
export function generationObject(env: GenerationsBinding, name: string): DurableObjectStub<GenerationRpc> {
  return env.GENERATIONS.get(env.GENERATIONS.idFromName(name));
}

/** `gen_<object name>_<run>`: a refresh starts run n+1 in the same object, and the old id stops resolving. */
export function generationId(name: string, run: number): string {
  return `gen_${name}_${run}`;
}

/** The object name and run of a generation id, or null if it is not one. */
export function parseGenerationId(id: string): { name: string; run: number } | null {
  const match = /^gen_([0-9a-f]{32}|[0-9a-f]{64})_([1-9]\d{0,8})$/.exec(id);
  return match ? { name: match[1]!, run: Number(match[2]) } : null;
}

/** One admitted request that the generation answers: what its one ledger record needs. */
export interface RequestTicket {
  requestId: string;
  accountId: string;
  keyId: string;
  /** The request's end user, for its ledger record; null when none. */
  endUser?: string | null;
  mode: "live" | "test";
  /** Public model id. */
  model: string;
  /** The endpoint the client called (its ledger record's). */
  endpoint?: UsageEndpoint;
  promptTokensEstimate: number;
  /** SSE (else one JSON answer at the end). */
  streaming: boolean;
  includeUsage: boolean;
  /** The request asked for `vote`: its answer (JSON or stream) carries the run's vote. */
  vote?: boolean;
  idempotencyKey?: string;
  admittedAt: number;
}

export interface StartRequest {
  /** The object's name: the cache key, or a random id for an uncached generation. */
  name: string;
  /** Cacheable: `read` false generates afresh (no-cache) and refreshes the entry. */
  cache: { read: boolean; ttlSeconds: number } | null;
  background: boolean;
  /** How long a foreground generation outlives its last subscriber, in ms. */
  graceMs: number;
  /**
   * The configuration the Worker routed with (BACKENDS and the routing vars), so
   * the object routes exactly as the Worker that admitted the request would.
   */
  routing: { backends: string; vars: RoutingVars };
  path: string;
  endpoint: Endpoint;
  backendBody: Record<string, unknown>;
  ticket: RequestTicket;
}

/** An ApiError, as it crosses the RPC boundary. */
export interface WireError {
  code: ErrorCode;
  message: string;
  param: string | null;
  headers: Record<string, string>;
}

/** Where a run's start waited, in ms (Server-Timing): until a backend was chosen, then until it answered. */
export interface OpenTiming {
  choiceMs: number;
  backendMs: number;
}

export type StartResult =
  | { kind: "stream"; id: string; cache: CacheVerdict; stream: ReadableStream<Uint8Array>; timing?: OpenTiming }
  | { kind: "accepted"; id: string; cache: CacheVerdict; generation: GenerationObject }
  | { kind: "error"; error: WireError };

/** What a JSON-mode subscription's stream carries, as one JSON text. */
export type JsonOutcome = { ok: true; body: unknown } | { ok: false; error: WireError };

/** An error as it crosses the boundary: an ApiError keeps its code, message and headers; anything else is a 502 that leaks nothing. */
export function toWireError(err: unknown): WireError {
  if (err instanceof ApiError) {
    if (err.internal) log("warn", "backend refused a generation", { internal: err.internal });
    return { code: err.code, message: err.message, param: err.param, headers: err.headers };
  }
  log("error", "generation failed to start", { error: String(err) });
  return { code: "backend_error", message: "The model backend failed to answer. Please retry shortly.", param: null, headers: { "retry-after": "5" } };
}

/** The ApiError a WireError stands for, on the Worker's side. */
export function fromWireError(error: WireError): ApiError {
  return new ApiError(error.code, error.message, { param: error.param, headers: error.headers });
}
