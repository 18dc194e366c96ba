/**
 * @module routing/choose
 * Picks the backend for one attempt, given what the pool knows: our own
 * in-flight counts (exact), each breaker, the latest health (polled vLLM
 * `/metrics` and what recent attempts saw) and, for `load-aware`, the load
 * our leases put on each backend. Pure, so the policies are tested without a
 * runtime.
 *
 * Every policy first keeps the backends whose breaker lets traffic through
 * and that have a free slot (`max_in_flight`). When no breaker lets traffic
 * through, the one that opened first gets the next request as its probe
 * (routing/breaker): a lone backend is never refused by its breaker alone;
 * only while every candidate's probe is in flight is the answer
 * `unavailable` (the router waits for the probe). Then, by `ROUTING_POLICY`:
 * - `least-loaded` (the default, the policy before load-aware existed): warm
 *   before unknown-cold before failing health; within the best group,
 *   weighted at random by `weight`, by the share of its `max_in_flight` still
 *   free and by vLLM's own queue (`vllm:num_requests_waiting`);
 * - `round-robin`: the next free backend in turn, nothing else considered
 *   (the baseline `npm run fleet` compares against);
 * - `load-aware`: routing/load-aware.ts: warm first, then where the
 *   request's sequences start at once (free `max_sequences`, KV room by our
 *   leases' remaining work), and `saturated` (hold the request) when no
 *   backend has both.
 */
import { mayPass, mayProbe, msUntilProbe } from "./breaker";
import { pickLoadAware, weightedPick } from "./load-aware";
import type { BackendView, Candidate, RequestLoad } from "./pool-rpc";

export type Choice =
  /** `probe`: the backend's breaker is open and this request is its early probe. */
  | { ok: true; key: string; probe?: boolean }
  /**
   * `full`: some backend could take it but has no free slot; `unavailable`:
   * every breaker is open with its probe in flight; `saturated`: load-aware
   * holds it, no backend having a free sequence and KV room for it.
   */
  | { ok: false; reason: "full" | "unavailable" | "saturated"; retryAfterMs: number };

export type RoutingPolicyName = "least-loaded" | "round-robin" | "load-aware";
export const ROUTING_POLICIES: readonly RoutingPolicyName[] = ["least-loaded", "round-robin", "load-aware"];

export interface ChoiceOptions {
  policy?: RoutingPolicyName;
  /** What this request adds to a backend (load-aware). */
  load?: RequestLoad;
  /** Load-aware: the hold is over, choose the backend expected to free first even if saturated. */
  overflow?: boolean;
  /** Round robin: this request's turn (a counter the caller keeps). */
  turn?: number;
  /**
   * No early probe: the caller left some of its backends out for now (backoff,
   * still cold), so an open breaker here is not the last way to serve it.
   */
  noEarlyProbe?: boolean;
}

/** Health older than this is ignored for preferences (the cron polls every minute). */
export const HEALTH_STALE_MS = 5 * 60_000;

export function chooseBackend(
  candidates: readonly Candidate[],
  view: (key: string) => BackendView,
  now: number,
  random: () => number = Math.random,
  options: ChoiceOptions = {},
): Choice {
  const passable = candidates.filter((c) => mayPass(view(c.key).breaker, now));
  if (passable.length === 0) return earlyProbe(candidates, view, now, options.noEarlyProbe ?? false);
  const free = passable.filter((c) => c.maxInFlight === null || view(c.key).inFlight < c.maxInFlight);
  if (free.length === 0) return { ok: false, reason: "full", retryAfterMs: 1000 };
  const policy = options.policy ?? "least-loaded";
  if (policy === "round-robin") return { ok: true, key: free[(options.turn ?? 0) % free.length]!.key };
  const best = Math.min(...free.map((c) => healthRank(view(c.key), now)));
  const group = free.filter((c) => healthRank(view(c.key), now) === best);
  if (policy === "load-aware") return pickLoadAware(group, view, options.load ?? null, options.overflow ?? false, now, random);
  const scores = group.map((c) => {
    const v = view(c.key);
    const share = c.maxInFlight === null ? 1 : (c.maxInFlight - v.inFlight) / c.maxInFlight;
    return (c.weight * share) / (1 + (freshHealth(v, now)?.waiting ?? 0));
  });
  return { ok: true, key: weightedPick(group, scores, random).key };
}

/** Warm (0) before unknown or cold (1) before failing (2); health older than HEALTH_STALE_MS counts as unknown. */
export function healthRank(v: BackendView, now: number): number {
  const h = freshHealth(v, now);
  if (!h) return 0;
  return h.state === "warm" ? 0 : h.state === "cold" ? 1 : 2;
}

function freshHealth(v: BackendView, now: number) {
  return v.health && now - v.health.checkedAt <= HEALTH_STALE_MS ? v.health : null;
}

/** No breaker lets traffic through: the one that opened first is probed now, unless every probe is in flight. */
function earlyProbe(candidates: readonly Candidate[], view: (key: string) => BackendView, now: number, never: boolean): Choice {
  const probeable = never ? [] : candidates.filter((c) => mayProbe(view(c.key).breaker));
  if (probeable.length === 0) {
    const waits = candidates.map((c) => msUntilProbe(view(c.key).breaker, now));
    return { ok: false, reason: "unavailable", retryAfterMs: Math.max(1000, Math.min(...waits)) };
  }
  const first = probeable.reduce((a, b) => ((view(b.key).breaker.openedAt ?? 0) < (view(a.key).breaker.openedAt ?? 0) ? b : a));
  return { ok: true, key: first.key, probe: true };
}
