/**
 * @module routing/policy
 * The routing knobs (Worker vars, each with a default) and the pure rules the
 * router follows: which backend failures are worth another attempt, which mean
 * "the container is still booting", and how long to wait before the next try.
 */
import type { RoutingVars } from "../core/vars";
import { ROUTING_POLICIES, type RoutingPolicyName } from "./choose";

export interface RoutingPolicy {
  /** `ROUTING_POLICY`: how a backend is chosen (routing/choose). */
  name: RoutingPolicyName;
  /** Load-aware: longest a request is held while no backend has a free sequence and KV room for it, then sent anyway. */
  holdMs: number;
  /** Load-aware: the answer length a request is expected to reach when its `max_tokens` is larger, in tokens. */
  expectedAnswerTokens: number;
  /** How long a request is held while every backend is cold (booting) before a 503. */
  coldStartBudgetMs: number;
  /** Longest wait from sending a request to its first byte (one attempt), then `timeout`. */
  ttftTimeoutMs: number;
  /** Longest silence between two reads of a stream that has started, then `timeout`. */
  idleTimeoutMs: number;
  /** How long a request waits for a free slot when every backend is full, then 503 `server_busy`. */
  busyWaitMs: number;
  /** Interval of the SSE comment lines a held streaming client receives. */
  keepaliveIntervalMs: number;
  /**
   * Read coalescing of backend streams: a read asked for within this long of
   * the previous one waits out the rest, so events that arrive together are
   * handled together (one read, one batch, one write to each client) instead
   * of one by one. It delays an event by at most this, and only one that
   * followed the previous within this: at LIMO's pace (a token every ~25 ms
   * per stream) nothing waits at all. 0 turns it off.
   */
  coalesceMs: number;
}

/**
 * Defaults. A Modal container boots LIMO in one to three minutes, so the
 * budget is a few minutes. The first token of a 32k-token prompt may take a
 * while behind a full batch, but five minutes of nothing is a stuck backend.
 * Keep-alives every 5 s stay far under any proxy's idle cut (60-100 s).
 *
 * The idle timeout, from the GPU profiles (gpu/sim/perf/profiles.md): a
 * stream that has started is silent only for a step, or while its sequence
 * is preempted and recomputed. The worst step of `h200-bf16` is a full
 * 8,192-token prefill chunk beside a full KV cache: 1.085 s + 27.8 ms, about
 * 1.1 s (`h100-fp8`: 0.57 s); recomputing a preempted 32k-token sequence is
 * 4 such chunks, about 4.5 s. 60 s is more than 10 times the longest pause
 * the model can produce (tests/backends/policy-profiles.test.ts checks it
 * against the arithmetic), so only a dead stream trips it. Modal's edge
 * queue and a boot come before the first byte, where TTFT_TIMEOUT_MS and
 * the 303 chain apply instead (routing/backend-client).
 *
 * Load-aware holds a request up to two minutes (a LIMO answer frees its
 * sequence in about 5-15 minutes, so some lease ends well within it under
 * load), and expects 16,000 answer tokens, LIMO's typical length.
 */
const DEFAULTS: Omit<RoutingPolicy, "name"> = {
  holdMs: 120_000,
  expectedAnswerTokens: 16_000,
  coldStartBudgetMs: 180_000,
  ttftTimeoutMs: 300_000,
  idleTimeoutMs: 60_000,
  busyWaitMs: 2_000,
  keepaliveIntervalMs: 5_000,
  coalesceMs: 4,
};

/** Attempts for one request that fail with a retryable (non-cold) error, in all. */
export const MAX_FAILED_ATTEMPTS = 3;
/** Backoff before the n-th retry: BASE * 2^(n-1), capped, with full jitter. */
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2_000;
/** How long non-cold retries may go on for one request before the last error is answered. */
export const RETRY_DEADLINE_MS = 10_000;
/** Pause between polls of a cold backend (unless it said Retry-After). */
export const COLD_POLL_MS = 1_000;
/** What a client is told to wait after a cold start outlasted the budget, in seconds. */
export const COLD_RETRY_AFTER_SECONDS = 30;
/** Longest Retry-After from a backend we honour inside one request, in ms (longer: try another or give up). */
export const MAX_HONOURED_RETRY_AFTER_MS = 30_000;

export function routingPolicy(vars: RoutingVars): RoutingPolicy {
  const num = (raw: string | undefined, fallback: number) => {
    const value = raw === undefined || raw === "" ? NaN : Number(raw);
    return Number.isFinite(value) && value >= 0 ? value : fallback;
  };
  const name = ROUTING_POLICIES.find((p) => p === vars.ROUTING_POLICY?.trim()) ?? "least-loaded";
  return {
    name,
    holdMs: num(vars.ROUTING_HOLD_MS, DEFAULTS.holdMs),
    expectedAnswerTokens: Math.max(1, num(vars.ROUTING_EXPECTED_ANSWER_TOKENS, DEFAULTS.expectedAnswerTokens)),
    coldStartBudgetMs: num(vars.COLD_START_BUDGET_MS, DEFAULTS.coldStartBudgetMs),
    ttftTimeoutMs: num(vars.TTFT_TIMEOUT_MS, DEFAULTS.ttftTimeoutMs),
    idleTimeoutMs: num(vars.STREAM_IDLE_TIMEOUT_MS, DEFAULTS.idleTimeoutMs),
    busyWaitMs: num(vars.BACKEND_BUSY_WAIT_MS, DEFAULTS.busyWaitMs),
    keepaliveIntervalMs: Math.max(100, num(vars.KEEPALIVE_INTERVAL_MS, DEFAULTS.keepaliveIntervalMs)),
    coalesceMs: Math.min(50, num(vars.STREAM_COALESCE_MS, DEFAULTS.coalesceMs)),
  };
}

/** How one attempt at a backend ended, before any byte reached the client. */
export type AttemptFailure =
  /** The container is booting (vLLM not up yet, Modal "no containers"): wait, do not count against it. */
  | { kind: "cold"; retryAfterMs: number | null }
  /** Connection refused/reset, 502/503/504, 429: another attempt may succeed. */
  | { kind: "retryable"; retryAfterMs: number | null }
  /** Anything else (a 4xx, our misconfiguration, a timeout): answer it. */
  | { kind: "final" };

/**
 * Words in a 503 that mean the server is starting, not failing (vLLM, Modal,
 * the simulator). Modal's `app.server` front answers 503 with a plain-text
 * `modal-http:` body when no replica is live (the request triggers a boot):
 * any plain `modal-http:` 503 is Modal's edge, never vLLM failing.
 */
const COLD_MESSAGE = /no containers|no live replica|^modal-http:|cold start|starting|loading|booting|warming/i;

/** Classifies a backend's answer status and message (null status: no answer at all). */
export function classifyFailure(status: number | null, message: string | null, retryAfter: string | null): AttemptFailure {
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (status === null) return { kind: "retryable", retryAfterMs: null };
  if (status === 503 && message !== null && COLD_MESSAGE.test(message)) return { kind: "cold", retryAfterMs };
  if (status === 502 || status === 503 || status === 504 || status === 429) return { kind: "retryable", retryAfterMs };
  return { kind: "final" };
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Full-jitter exponential backoff before retry number `retry` (1-based). */
export function backoffMs(retry: number, random = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
