/**
 * @module routing/router
 * Sends one generation to a backend and hands back its SSE response. The one
 * entry point (no Hono Context: callable from a route, a service or a Durable
 * Object):
 *
 * ```ts
 * const { response, backend, timedOut } = await openRoutedStream({
 *   env, deployment, model, mode, path, body, signal,
 *   priority,   // "interactive" (streaming client, default) | "background"
 *   onWaiting,  // called once when the request starts waiting (any reason: see below)
 *   onAttempt,  // called with each backend tried (the last one is what to bill)
 *   onSent,     // called once each attempt's request is on its way
 *   waitUntil,  // keeps the lease release alive after the response (ctx.waitUntil)
 * });
 * ```
 *
 * Resolves once a backend answered 2xx with an event stream, read through
 * `body`: no first byte within TTFT_TIMEOUT_MS, or silence longer than
 * STREAM_IDLE_TIMEOUT_MS, aborts the upstream (the read fails), and then
 * `timedOut()` is true (settle as `timeout`). Reading the body to its end or
 * cancelling it releases the backend's slot. Rejects with an ApiError (4xx
 * passed through, 502/503/504 with Retry-After, 503 `server_busy` when every
 * backend is full) or ClientGoneError when `signal` fired first.
 *
 * What it does before the first byte, and never after:
 * - picks a backend through the pool object by ROUTING_POLICY (routing/choose:
 *   serves the model, breaker closed, free slot, warm first; test-mode keys
 *   only simulators, or the built-in one); an open breaker with nowhere else
 *   to go gets the request as its probe (waiting while a probe is in flight);
 *   `load-aware` holds a request while no backend has a free sequence and
 *   KV room for it, up to ROUTING_HOLD_MS, then sends it to the backend
 *   expected to free first (routing/load-aware);
 * - retries connection errors, 502/503/504 and 429 with jittered exponential
 *   backoff on another backend when there is one, honouring Retry-After,
 *   within RETRY_DEADLINE_MS and MAX_FAILED_ATTEMPTS; never a 4xx;
 * - when every backend is cold (503 "starting"/"no containers", Modal's 503
 *   "no live replica"), polls them up to COLD_START_BUDGET_MS, then 503 with
 *   Retry-After; a 303 from Modal's edge is followed (routing/backend-client),
 *   never counted against the backend, with a fresh TTFT timer each hop.
 *
 * `onWaiting` is how a streaming client hears it waits: its response starts
 * and keep-alive comments follow every KEEPALIVE_INTERVAL_MS until the first
 * token. It is called at once for a cold start, a 303, a probe in flight or a
 * load-aware hold, and in any case once the request has waited half of
 * KEEPALIVE_INTERVAL_MS without an answer (retries, busy wait), so the first
 * comment comes within KEEPALIVE_INTERVAL_MS of the request, whatever it
 * waits for. An error after that reaches the client as an error event.
 */
import type { BackendConfig } from "../../shared/backends";
import type { CatalogueModel } from "../../shared/constants";
import { ApiError, ClientGoneError } from "../core/errors";
import { log } from "../core/log";
import type { BackendSecrets, RoutingVars } from "../core/vars";
import { BackendCallError, openBackendStream } from "./backend-client";
import { EMBEDDED_SIMULATOR, candidateBackends, type Deployment } from "./catalogue";
import { poolObject, type LeaseResult, type PoolBinding, type Priority } from "./pool-rpc";
import {
  backoffMs,
  classifyFailure,
  COLD_POLL_MS,
  COLD_RETRY_AFTER_SECONDS,
  MAX_FAILED_ATTEMPTS,
  MAX_HONOURED_RETRY_AFTER_MS,
  RETRY_DEADLINE_MS,
  routingPolicy,
} from "./policy";
import { requestLoad } from "./load-aware";
import { acquireInIsolate, LOCAL_LEASE, reportFromIsolate } from "./pool-view";
import { plainReads, watchReads, type WatchedReader } from "./watchdog";

export type RouterEnv = BackendSecrets & RoutingVars & PoolBinding;

export interface RoutedStreamOptions {
  env: RouterEnv;
  deployment: Deployment;
  model: CatalogueModel;
  /** A test-mode key only ever reaches simulators. */
  mode: "live" | "test";
  /** `/v1/chat/completions` or `/v1/completions`. */
  path: string;
  /** The backend request body (always `stream: true`). */
  body: unknown;
  /** The caller gave up (client gone): stops waiting, aborts the upstream. */
  signal: AbortSignal;
  /** Streaming clients are interactive; background work yields to them when slots are scarce. */
  priority?: Priority;
  /** Called once when the request starts waiting (a cold start, a 303, a probe, a hold, or half a keep-alive interval). */
  onWaiting?: () => void;
  /** Called with every backend an attempt goes to. */
  onAttempt?: (backend: BackendConfig) => void;
  /**
   * Called once an attempt's request has been sent (before its answer): a
   * Durable Object's storage writes made from here on do not hold it back.
   */
  onSent?: () => void;
  /** Keeps the slot release running after the response is returned. */
  waitUntil?: (promise: Promise<unknown>) => void;
}

export interface RoutedStream {
  /** The backend's 2xx answer; read its body only through `body`. */
  response: Response;
  /** The body's reader, watched for timeouts; its end (or `cancel`) releases the backend's slot. */
  body: WatchedReader;
  backend: BackendConfig;
  /** Whether the TTFT or idle timeout cut the stream. */
  timedOut(): boolean;
}

/** After an aborted or broken stream, how long before its slot is handed on: the backend needs a moment to notice. */
const ABORT_RELEASE_DELAY_MS = 250;
/** Pause between asks while every backend's probe is in flight. */
const PROBE_POLL_MS = 100;

export async function openRoutedStream(options: RoutedStreamOptions): Promise<RoutedStream> {
  const candidates = candidateBackends(options.deployment, options.model, options.mode);
  if (candidates.length === 1 && candidates[0] === EMBEDDED_SIMULATOR) return direct(options, EMBEDDED_SIMULATOR);
  const policy = routingPolicy(options.env);
  let waiting = false;
  const wait = (why: string) => {
    if (waiting) return;
    waiting = true;
    log("info", "request waiting for a backend", { why });
    options.onWaiting?.();
  };
  // Only a streaming client waits visibly (keep-alives); without one the timer would only log.
  const notice = options.onWaiting ? setTimeout(() => wait("no answer yet"), policy.keepaliveIntervalMs / 2) : undefined;
  try {
    return await route(options, candidates, policy, wait);
  } finally {
    if (notice !== undefined) clearTimeout(notice);
  }
}

async function route(
  options: RoutedStreamOptions,
  candidates: readonly BackendConfig[],
  policy: ReturnType<typeof routingPolicy>,
  wait: (why: string) => void,
): Promise<RoutedStream> {
  const pool = poolObject(options.env);
  const byKey = new Map(candidates.map((b) => [b.url, b]));
  const started = Date.now();
  const coldDeadline = started + policy.coldStartBudgetMs;
  /** Backends not to try again before the given time (backoff, Retry-After, still cold). */
  const notBefore = new Map<string, number>();
  const cold = new Set<string>();
  let failures = 0;
  let lastError: ApiError | null = null;
  const load = policy.name === "load-aware" ? requestLoad(options.body, policy.expectedAnswerTokens) : undefined;
  const holdDeadline = started + policy.holdMs;
  /** Load-aware: the hold is over, the next ask takes the least loaded backend whatever its load. */
  let overflow = false;
  /** A probe someone else sent may take a cold start to answer: wait for it as long as for one. */
  const probeDeadline = started + Math.max(RETRY_DEADLINE_MS, policy.coldStartBudgetMs);
  const release = (lease: { leaseId: string; key: string }, result: LeaseResult, delayMs = 0) => {
    if (lease.leaseId === LOCAL_LEASE) {
      const reported = reportFromIsolate(pool, lease.key, result, Date.now());
      if (reported) options.waitUntil?.(reported.catch((err) => log("error", "reporting a backend result failed", { error: String(err) })));
      return;
    }
    const done = (async () => {
      if (delayMs > 0) await sleep(delayMs);
      await pool.release(lease.leaseId, result);
    })().catch((err) => log("error", "releasing a backend slot failed", { error: String(err) }));
    options.waitUntil?.(done);
  };

  for (;;) {
    if (options.signal.aborted) throw new ClientGoneError();
    const now = Date.now();
    const open = candidates.filter((b) => (notBefore.get(b.url) ?? 0) <= now);
    if (open.length === 0) {
      const next = Math.min(...candidates.map((b) => notBefore.get(b.url) ?? now));
      const limit = cold.size > 0 ? coldDeadline : started + RETRY_DEADLINE_MS;
      if (next > limit) throw giveUp(lastError, cold.size > 0);
      await sleep(next - now, options.signal);
      continue;
    }
    const asked = open.map((b) => ({
      key: b.url,
      name: b.name,
      weight: b.weight,
      maxInFlight: b.max_in_flight ?? null,
      kvTokens: b.kv_tokens ?? null,
      maxSequences: b.max_sequences ?? null,
      decodeTokensPerSecond: b.decode_tokens_per_second ?? null,
    }));
    const lease =
      (policy.name === "least-loaded" ? await acquireInIsolate(pool, asked, now) : null) ??
      (await pool.acquire({
        candidates: asked,
        priority: options.priority ?? "interactive",
        waitMs: load && !overflow ? Math.max(0, holdDeadline - now) : policy.busyWaitMs,
        policy: policy.name,
        // Held requests are served in order of arrival, however often they ask again.
        ...(load ? { load, overflow, heldSince: started } : {}),
        ...(open.length < candidates.length ? { noEarlyProbe: true } : {}),
      }));
    if (!lease.ok) {
      if (lease.reason === "saturated") {
        wait("held: no backend where it starts at once");
        if (Date.now() >= holdDeadline) overflow = true;
        continue;
      }
      if (lease.reason === "full") {
        const retryAfter = String(Math.max(1, Math.ceil(lease.retryAfterMs / 1000)));
        throw new ApiError("server_busy", "Every model backend is at capacity. Please retry shortly.", {
          headers: { "retry-after": retryAfter },
          internal: "every backend serving the model is at max_in_flight",
        });
      }
      // Every breaker open: the probe in flight (or a cold start being waited out) decides; else answer now.
      if (open.length === candidates.length && Date.now() + PROBE_POLL_MS <= probeDeadline) {
        wait("a probe is in flight");
        await sleep(PROBE_POLL_MS, options.signal);
        continue;
      }
      // The open breakers are only those asked: wait for the backends left out (backoff, still cold) to be due.
      const due = Math.min(...candidates.filter((b) => !open.includes(b)).map((b) => notBefore.get(b.url) ?? 0));
      if (due <= (cold.size > 0 ? coldDeadline : started + RETRY_DEADLINE_MS)) {
        await sleep(due - Date.now(), options.signal);
        continue;
      }
      throw lastError ?? unavailable(Math.ceil(lease.retryAfterMs / 1000), "every backend's circuit breaker is open");
    }
    const backend = byKey.get(lease.key)!;
    options.onAttempt?.(backend);
    const attempt = new AbortController();
    let hopAt = Date.now();
    const armTtft = () => setTimeout(() => attempt.abort(new Error("ttft")), policy.ttftTimeoutMs);
    let ttft = armTtft();
    const signal = AbortSignal.any([options.signal, attempt.signal]);
    try {
      const answer = openBackendStream(backend, options.path, options.body, options.env, signal, {
        // Held at Modal's edge: a sign of life, not a failure; each hop gets its own TTFT allowance.
        onHeld: () => {
          wait("held at Modal's edge (303)");
          clearTimeout(ttft);
          ttft = armTtft();
          hopAt = Date.now();
        },
      });
      options.onSent?.();
      const response = await answer;
      clearTimeout(ttft);
      // A probe that got an answer closes its breaker now, not when its stream ends minutes later.
      if (lease.probe) options.waitUntil?.(pool.report(lease.key, "success").catch(() => {}));
      const watched = watchReads(response.body!, {
        firstByteMs: Math.max(0, policy.ttftTimeoutMs - (Date.now() - hopAt)),
        idleMs: policy.idleTimeoutMs,
        coalesceMs: policy.coalesceMs,
        abort: () => attempt.abort(new Error("timeout")),
        onEnd: (end) =>
          release(lease, end === "done" ? "success" : end === "cancelled" ? "neutral" : "failure", end === "done" ? 0 : ABORT_RELEASE_DELAY_MS),
      });
      return { response, body: watched.reader, backend, timedOut: watched.timedOut };
    } catch (err) {
      clearTimeout(ttft);
      if (attempt.signal.aborted && !options.signal.aborted) {
        release(lease, "failure", ABORT_RELEASE_DELAY_MS);
        throw timeoutError(backend, "no answer within TTFT_TIMEOUT_MS");
      }
      if (!(err instanceof BackendCallError)) {
        release(lease, "neutral", err instanceof ClientGoneError ? ABORT_RELEASE_DELAY_MS : 0);
        throw err;
      }
      const failure = classifyFailure(err.upstream.status, err.upstream.message, err.upstream.retryAfter);
      lastError = err;
      const at = Date.now();
      if (failure.kind === "final") {
        const status = err.upstream.status;
        release(lease, status !== null && status >= 500 ? "failure" : "neutral");
        throw err;
      }
      if (failure.kind === "cold") {
        release(lease, "cold");
        cold.add(backend.url);
        notBefore.set(backend.url, at + Math.min(failure.retryAfterMs ?? COLD_POLL_MS, MAX_HONOURED_RETRY_AFTER_MS));
        if (candidates.every((b) => cold.has(b.url) || (notBefore.get(b.url) ?? 0) > at)) wait(`cold backend ${backend.name}`);
        if (at >= coldDeadline) throw giveUp(lastError, true);
        continue;
      }
      release(lease, "failure");
      cold.delete(backend.url);
      failures++;
      // A lone backend gets one retry: a second one rarely helps and the client is waiting.
      if (failures >= (candidates.length > 1 ? MAX_FAILED_ATTEMPTS : 2) && cold.size === 0) throw err;
      const hinted = failure.retryAfterMs !== null && failure.retryAfterMs <= MAX_HONOURED_RETRY_AFTER_MS ? failure.retryAfterMs : 0;
      notBefore.set(backend.url, at + Math.max(backoffMs(failures), hinted));
    }
  }
}

/** The built-in simulator: one attempt, no pool (it lives in this isolate and spends no GPU). */
async function direct(options: RoutedStreamOptions, backend: BackendConfig): Promise<RoutedStream> {
  options.onAttempt?.(backend);
  const answer = openBackendStream(backend, options.path, options.body, options.env, options.signal);
  options.onSent?.();
  const response = await answer;
  return { response, body: plainReads(response.body!), backend, timedOut: () => false };
}

function giveUp(lastError: ApiError | null, cold: boolean): ApiError {
  if (cold) return unavailable(COLD_RETRY_AFTER_SECONDS, "every backend stayed cold past COLD_START_BUDGET_MS");
  return lastError ?? unavailable(5, "no backend could be tried");
}

function unavailable(retryAfterSeconds: number, internal: string): ApiError {
  return new ApiError("backend_unavailable", "The model backend is unavailable or starting. Please retry shortly.", {
    headers: { "retry-after": String(Math.max(1, retryAfterSeconds)) },
    internal,
  });
}

function timeoutError(backend: BackendConfig, internal: string): ApiError {
  return new ApiError("backend_timeout", "The model backend did not answer in time. Please retry.", {
    headers: { "retry-after": "5" },
    internal: `backend ${backend.name}: ${internal}`,
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ClientGoneError());
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ClientGoneError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
