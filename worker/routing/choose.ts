/**
 * @module routing/choose
 * Picks the backend for one attempt, given what the pool knows: our own
 * in-flight counts (exact), each breaker, and the latest health (polled vLLM
 * `/metrics` and what recent attempts saw). Pure, so the policy is tested
 * without a runtime.
 *
 * Order of preference: a backend whose breaker lets traffic through and that
 * has a free slot; among those, warm before unknown-cold before failing
 * health; within the best group, weighted at random by `weight`, by the share
 * of its `max_in_flight` still free and by vLLM's own queue
 * (`vllm:num_requests_waiting`).
 */
import { mayPass, msUntilProbe } from "./breaker";
import type { BackendView, Candidate } from "./pool-rpc";

export type Choice =
  | { ok: true; key: string }
  /** `full`: some backend could take it but has no free slot; `unavailable`: every breaker is open. */
  | { ok: false; reason: "full" | "unavailable"; retryAfterMs: number };

/** Health older than this is ignored for preferences (the cron polls every minute). */
export const HEALTH_STALE_MS = 5 * 60_000;

export function chooseBackend(
  candidates: readonly Candidate[],
  view: (key: string) => BackendView,
  now: number,
  random: () => number = Math.random,
): Choice {
  const passable = candidates.filter((c) => mayPass(view(c.key).breaker, now));
  if (passable.length === 0) {
    const waits = candidates.map((c) => msUntilProbe(view(c.key).breaker, now));
    return { ok: false, reason: "unavailable", retryAfterMs: Math.max(1000, Math.min(...waits)) };
  }
  const free = passable.filter((c) => c.maxInFlight === null || view(c.key).inFlight < c.maxInFlight);
  if (free.length === 0) return { ok: false, reason: "full", retryAfterMs: 1000 };
  const rank = (c: Candidate) => {
    const h = view(c.key).health;
    if (!h || now - h.checkedAt > HEALTH_STALE_MS) return 0;
    return h.state === "warm" ? 0 : h.state === "cold" ? 1 : 2;
  };
  const best = Math.min(...free.map(rank));
  const group = free.filter((c) => rank(c) === best);
  const scores = group.map((c) => {
    const v = view(c.key);
    const share = c.maxInFlight === null ? 1 : (c.maxInFlight - v.inFlight) / c.maxInFlight;
    const fresh = v.health && now - v.health.checkedAt <= HEALTH_STALE_MS ? v.health : null;
    return c.weight * share / (1 + (fresh?.waiting ?? 0));
  });
  const total = scores.reduce((a, b) => a + b, 0);
  let pick = random() * total;
  for (let i = 0; i < group.length; i++) {
    pick -= scores[i]!;
    if (pick < 0) return { ok: true, key: group[i]!.key };
  }
  return { ok: true, key: group[group.length - 1]!.key };
}
