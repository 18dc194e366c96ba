/**
 * @module routing/breaker
 * A circuit breaker per backend, as pure functions over a small state record
 * (kept by the backend pool object). Closed: traffic flows. After
 * BREAKER_FAILURE_THRESHOLD consecutive failures it opens for BREAKER_OPEN_MS:
 * nothing is sent. Then half-open: exactly one probe request; its success
 * closes the breaker, its failure opens it again.
 */
import type { BreakerPhase, BreakerState } from "./pool-rpc";

/** Consecutive failed attempts (no answer, 5xx, a broken stream) that open the breaker. */
export const BREAKER_FAILURE_THRESHOLD = 5;
/** How long an open breaker keeps traffic away before one probe, in ms. */
export const BREAKER_OPEN_MS = 30_000;

export const closedBreaker = (): BreakerState => ({ phase: "closed", consecutiveFailures: 0, openedAt: null, probing: false });

/** The phase as of `now` (an open breaker turns half-open once its time is up). */
export function phaseAt(state: BreakerState, now: number): BreakerPhase {
  if (state.phase === "open" && state.openedAt !== null && now - state.openedAt >= BREAKER_OPEN_MS) return "half_open";
  return state.phase;
}

/** Whether a request may go to this backend now; a half-open breaker admits one probe. */
export function mayPass(state: BreakerState, now: number): boolean {
  const phase = phaseAt(state, now);
  return phase === "closed" || (phase === "half_open" && !state.probing);
}

/** Records that a request was sent (the probe, when half-open). */
export function onSend(state: BreakerState, now: number): BreakerState {
  return phaseAt(state, now) === "half_open" ? { ...state, phase: "half_open", probing: true } : state;
}

/** Records an early probe: an open breaker sent one request now because no other backend could take it. */
export function onProbe(state: BreakerState): BreakerState {
  return { ...state, phase: "half_open", probing: true };
}

/** Whether a request may probe this breaker early (it is open, or half-open, and no probe is in flight). */
export function mayProbe(state: BreakerState): boolean {
  return state.phase !== "closed" && !state.probing;
}

/** Records how an attempt ended: `neutral` (a 4xx, a client that left, a cold start) changes nothing but ends a probe. */
export function onResult(state: BreakerState, result: "success" | "failure" | "neutral", now: number): BreakerState {
  if (result === "success") return closedBreaker();
  if (result === "neutral") return { ...state, probing: false };
  const failures = state.consecutiveFailures + 1;
  const phase = phaseAt(state, now);
  if (phase === "half_open" || failures >= BREAKER_FAILURE_THRESHOLD) {
    return { phase: "open", consecutiveFailures: failures, openedAt: now, probing: false };
  }
  return { ...state, consecutiveFailures: failures };
}

/** Milliseconds until an open breaker lets a probe through (0 if it would now). */
export function msUntilProbe(state: BreakerState, now: number): number {
  if (state.phase !== "open" || state.openedAt === null) return 0;
  return Math.max(0, state.openedAt + BREAKER_OPEN_MS - now);
}
