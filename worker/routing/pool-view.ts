/**
 * @module routing/pool-view
 * Routing without the pool's round trip, where the pool has nothing to
 * enforce. A backend without `max_in_flight` has no slots to lease: the pool
 * only contributes its breaker and health to the choice. So an isolate keeps
 * a copy of those (at most VIEW_TTL_MS old, one `views` call to refresh) and
 * chooses among uncapped backends itself, with the same `chooseBackend`, while
 * every candidate's breaker is closed. It tells the pool only what changes
 * the pool's state: a failure or a cold start (and then sends every request
 * through the pool for VIEW_TTL_MS, so a breaker that opens is seen at once),
 * and a success that ends a failure streak or shows a cold backend warm.
 *
 * Anything else goes through the pool as before: a capped candidate (its slots
 * must be exact across isolates), an open or half-open breaker (one probe, not
 * one per isolate), or a view older than VIEW_TTL_MS that could not be read.
 * What it gives up: the pool's in-flight count of an uncapped backend no longer
 * includes requests routed this way (it only steered the weighted choice, and
 * `GET /admin/v1/backends` shows capped backends' counts exactly).
 */
import { closedBreaker } from "./breaker";
import { chooseBackend } from "./choose";
import type { AcquireResult, BackendView, Candidate, LeaseResult, PoolRpc } from "./pool-rpc";

/** How old a copy of the pool's view may be before it is read again, in ms. */
export const VIEW_TTL_MS = 1_000;
/** The lease id of a request routed in the isolate: nothing to release at the pool. */
export const LOCAL_LEASE = "local";

/** This isolate's copy of the pool's view, per backend key, with when it was read. */
const views = new Map<string, { view: BackendView; readAt: number }>();
/** Until then, every request goes through the pool (a failure was just reported). */
let poolOnlyUntil = 0;

/**
 * Chooses among `candidates` without the pool when they are all uncapped and
 * their breakers closed; null means "ask the pool".
 */
export async function acquireInIsolate(pool: DurableObjectStub<PoolRpc>, candidates: readonly Candidate[], now: number): Promise<AcquireResult | null> {
  if (now < poolOnlyUntil || candidates.some((c) => c.maxInFlight !== null)) return null;
  const stale = candidates.filter((c) => (views.get(c.key)?.readAt ?? -Infinity) < now - VIEW_TTL_MS);
  if (stale.length > 0) {
    const fresh = (await pool.views(stale.map((c) => c.key))) as Record<string, BackendView>;
    const readAt = Date.now();
    for (const [key, view] of Object.entries(fresh)) views.set(key, { view, readAt });
  }
  const view = (key: string): BackendView => views.get(key)?.view ?? { inFlight: 0, breaker: closedBreaker(), health: null };
  if (candidates.some((c) => view(c.key).breaker.phase !== "closed")) return null;
  const choice = chooseBackend(candidates, view, now);
  return choice.ok ? { ok: true, leaseId: LOCAL_LEASE, key: choice.key } : null;
}

/**
 * How an attempt routed in the isolate ended: the pool hears of it only when
 * it changes the pool's state. Returns the report's promise, or null if none
 * was needed.
 */
export function reportFromIsolate(pool: DurableObjectStub<PoolRpc>, key: string, result: LeaseResult, now: number): Promise<void> | null {
  const known = views.get(key)?.view;
  if (result === "failure" || result === "cold") {
    poolOnlyUntil = now + VIEW_TTL_MS;
    views.delete(key);
    return pool.report(key, result);
  }
  if (result !== "success" || !known) return null;
  const streak = known.breaker.consecutiveFailures > 0;
  const notWarm = known.health !== null && known.health.state !== "warm";
  if (!streak && !notWarm) return null;
  known.breaker = closedBreaker();
  if (known.health) known.health = { ...known.health, state: "warm" };
  return pool.report(key, "success");
}
