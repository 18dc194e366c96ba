/**
 * @module generation-rpc
 * The shapes of the generation object's calls (worker/durable-objects/generation-do.ts).
 */
import type { ErrorCode } from "../../shared/errors";
import type { CacheVerdict, GenerationObject } from "../../shared/generations";
import type { RoutingVars } from "../routing/policy";
import type { Endpoint } from "./prepare";

/** One admitted request that the generation answers: what its one ledger record needs. */
export interface RequestTicket {
  requestId: string;
  accountId: string;
  keyId: string;
  mode: "live" | "test";
  /** Public model id. */
  model: string;
  promptTokensEstimate: number;
  /** SSE (else one JSON answer at the end). */
  streaming: boolean;
  includeUsage: boolean;
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
  routing: { backends: string; vars: Partial<RoutingVars> };
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

export type StartResult =
  | { kind: "stream"; id: string; cache: CacheVerdict; stream: ReadableStream<Uint8Array> }
  | { kind: "accepted"; id: string; cache: CacheVerdict; generation: GenerationObject }
  | { kind: "error"; error: WireError };

/** What a JSON-mode subscription's stream carries, as one JSON text. */
export type JsonOutcome = { ok: true; body: unknown } | { ok: false; error: WireError };
