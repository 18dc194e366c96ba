/**
 * @module routing/pool-rpc
 * The backend pool object's contract: the RPC interface `BackendPoolDO`
 * implements and `Env.BACKEND_POOL` is typed by, the shapes that cross it
 * (candidates, leases, each backend's view: breaker, health, in-flight
 * count), and how to reach the one pool. The router, the isolate's pool view
 * and the health poll name this module, never the object's class.
 */

/** One backend as the pool sees it in a request. */
export interface Candidate {
  /** Identity of the server: its URL (names repeat across deployments and tests). */
  key: string;
  name: string;
  weight: number;
  maxInFlight: number | null;
  /** The backend's KV-cache capacity in tokens (BACKENDS `kv_tokens`), for load-aware routing; null: unknown. */
  kvTokens?: number | null;
  /** Sequences it runs at once (BACKENDS `max_sequences`), for load-aware routing; null: unknown. */
  maxSequences?: number | null;
  /** Tokens a second one of its sequences decodes at (BACKENDS `decode_tokens_per_second`); null: the default. */
  decodeTokensPerSecond?: number | null;
}

/** What one request puts on a backend, for load-aware routing (routing/load-aware). */
export interface RequestLoad {
  /** Sequences vLLM runs for it (`n`). */
  sequences: number;
  /** Its prompt's tokens (estimated), shared by its sequences. */
  promptTokens: number;
  /** Tokens each sequence is expected to produce. */
  answerTokens: number;
  /** Most tokens each sequence may produce (`max_tokens`); null: not given. */
  capTokens: number | null;
  /** Projected KV-cache tokens at full length: the prompt plus each sequence's expected answer. */
  kvTokens: number;
}

/** One lease of ours as load-aware routing sees it: its load, when it was granted, and when all its sequences are expected to have started (Unix ms). */
export interface LeaseLoad {
  sequences: number;
  promptTokens: number;
  answerTokens: number;
  capTokens: number | null;
  startedAt: number;
  /**
   * When its last sequence is expected to have started: `startedAt` when
   * each had a free one at the grant, later when some queued in vLLM behind
   * our other leases; null when that cannot be estimated.
   */
  allStartedBy: number | null;
}

export type BreakerPhase = "closed" | "open" | "half_open";

/** A backend's circuit breaker (routing/breaker.ts has the rules). */
export interface BreakerState {
  phase: BreakerPhase;
  consecutiveFailures: number;
  /** When it last opened (Unix ms), null when closed. */
  openedAt: number | null;
  /** A probe is in flight (half-open): nobody else may go. */
  probing: boolean;
}

/** The latest we know of a backend's health. */
export interface HealthSnapshot {
  /** Unix ms of the observation. */
  checkedAt: number;
  /** `warm` answers; `cold` is booting (503 starting / no containers); `down` fails or is unreachable. */
  state: "warm" | "cold" | "down";
  /** vLLM's gauges from `/metrics`, when they were read. */
  running: number | null;
  waiting: number | null;
  /** vLLM's KV-cache usage, 0 to 1 (`vllm:kv_cache_usage_perc`), when it was read. */
  kvCacheUsage: number | null;
  /** Where it came from. */
  source: "poll" | "traffic";
}

/** What the pool knows of one backend: what a choice is made by. */
export interface BackendView {
  inFlight: number;
  /** The load our leases put on it (sums of their sequences and full-length KV); absent: none known. */
  load?: { sequences: number; kvTokens: number };
  /** Our leases on it that carry a load (load-aware), each with when it started. */
  leases?: LeaseLoad[];
  breaker: BreakerState;
  health: HealthSnapshot | null;
}

export type Priority = "interactive" | "background";

export interface AcquireRequest {
  candidates: Candidate[];
  priority: Priority;
  /** How long to wait for a free slot when every backend is full (or, load-aware, saturated). */
  waitMs: number;
  /** ROUTING_POLICY; absent: least-loaded. */
  policy?: "least-loaded" | "round-robin" | "load-aware";
  /** What this request puts on the backend it gets (load-aware). */
  load?: RequestLoad;
  /** Load-aware: the hold is over; the backend expected to free first, even when saturated. */
  overflow?: boolean;
  /** Load-aware: when this request's hold began (Unix ms): held requests are served in that order. */
  heldSince?: number;
  /** No early probe of an open breaker (the caller has other backends it left out for now). */
  noEarlyProbe?: boolean;
}

export type AcquireResult =
  /** `probe`: the backend's breaker is open and this request is its probe. */
  | { ok: true; leaseId: string; key: string; probe?: boolean }
  /** `saturated`: load-aware holds it (no backend where it starts at once); see routing/load-aware. */
  | { ok: false; reason: "full" | "unavailable" | "saturated"; retryAfterMs: number };

/** How an attempt ended, for the breaker and the health view. */
export type LeaseResult = "success" | "failure" | "neutral" | "cold";

/** One backend as operators see it. */
export interface PoolBackendStatus {
  key: string;
  in_flight: number;
  breaker: { state: BreakerPhase; consecutive_failures: number; opened_at: number | null };
  health: HealthSnapshot | null;
}

/** What the pool object answers (routing/backend-pool-do.ts has the reasons). */
export interface PoolRpc extends Rpc.DurableObjectBranded {
  /** Picks a backend and leases it a slot, waiting up to `waitMs` (interactive first) when all are full. */
  acquire(request: AcquireRequest): Promise<AcquireResult>;
  /** Ends a lease (idempotent) and records how the attempt went. */
  release(leaseId: string, result: LeaseResult): void;
  /** Each backend's breaker, health and our in-flight count, as they are now. */
  views(keys: string[]): Record<string, BackendView>;
  /** How an attempt the pool did not lease went (an uncapped backend routed in an isolate). */
  report(key: string, result: LeaseResult): void;
  /** Stores what the cron trigger read from each backend. */
  recordHealth(entries: { key: string; health: HealthSnapshot }[]): void;
  /** Pool state of the given backends (admin view). */
  status(keys: string[]): PoolBackendStatus[];
  /** Leases held (of the given backend, or in all). */
  inFlight(key?: string): number;
}

export interface PoolBinding {
  BACKEND_POOL: DurableObjectNamespace<PoolRpc>;
}

/** The pool object's stub: one object for every backend. */
export function poolObject(env: PoolBinding): DurableObjectStub<PoolRpc> {
  return env.BACKEND_POOL.get(env.BACKEND_POOL.idFromName("pool"));
}
