/**
 * @module routing/load-aware
 * The `load-aware` routing policy (ROUTING_POLICY=load-aware), after llm-d's
 * inference scheduler and vLLM's production-stack router: score each replica
 * by the work we have on it and hold a request back, rather than push it into
 * a replica whose KV cache it would overfill (recompute preemption stalls
 * every sequence on the GPU and redoes the victim's whole prefill).
 *
 * What is known, and trusted in this order: our own leases (exact: the pool
 * object counts every request it routed, with its sequences, `n` counted,
 * and its projected KV footprint: prompt plus expected answer, per
 * sequence, the prompt's blocks shared as vLLM's prefix cache shares them); the backend's `kv_tokens` capacity from BACKENDS; warm or cold
 * (the health rank the caller grouped by). vLLM's `/metrics` is not used
 * here: behind Modal it is one container's view, a minute old, and blind to
 * Modal's edge queue.
 *
 * - Among the candidates (already the warmest group with a free slot and a
 *   closed breaker), the one with the least projected KV load relative to
 *   its capacity wins; without `kv_tokens`, the fewest sequences per unit of
 *   `weight`. Ties are broken at random.
 * - A backend is saturated when it has work and this request would take its
 *   projected KV past KV_HOLD_FRACTION of `kv_tokens`. When every candidate
 *   is, the answer is `saturated`: the router holds the request (keep-alives
 *   to a streaming client) until a lease ends, up to ROUTING_HOLD_MS, then
 *   sends it to the least loaded anyway (`overflow`), so a hold never turns
 *   into a refusal.
 */
import type { BackendView, Candidate, RequestLoad } from "./pool-rpc";

/** A load-aware pick: a backend, or `saturated` (hold the request). */
export type LoadAwarePick = { ok: true; key: string } | { ok: false; reason: "saturated"; retryAfterMs: number };

/** Share of a backend's KV capacity our projected load may reach before requests are held. */
export const KV_HOLD_FRACTION = 0.9;

/** The least loaded of `group`, or `saturated` when every one would go past KV_HOLD_FRACTION (unless `overflow`). */
export function pickLeastLoaded(
  group: readonly Candidate[],
  view: (key: string) => BackendView,
  load: RequestLoad | null,
  overflow: boolean,
  random: () => number,
): LoadAwarePick {
  const adding = load ?? { sequences: 1, kvTokens: 0 };
  const scored = group.map((c) => {
    const on = view(c.key).load ?? { sequences: 0, kvTokens: 0 };
    const projected = on.kvTokens + adding.kvTokens;
    const capacity = c.kvTokens ?? null;
    const pressure = capacity !== null ? projected / capacity : (on.sequences + adding.sequences) / c.weight;
    const saturated = capacity !== null && on.sequences > 0 && projected > KV_HOLD_FRACTION * capacity;
    return { c, pressure, saturated };
  });
  const open = overflow ? scored : scored.filter((s) => !s.saturated);
  if (open.length === 0) return { ok: false, reason: "saturated", retryAfterMs: 1000 };
  const least = Math.min(...open.map((s) => s.pressure));
  const tied = open.filter((s) => s.pressure <= least + 1e-9);
  return { ok: true, key: weightedPick(tied, tied.map((s) => s.c.weight), random).c.key };
}

/** Characters per token when a prompt's size is estimated from its text (English and LaTeX, Qwen's tokenizer). */
const CHARS_PER_TOKEN = 4;

/**
 * What one backend request adds to a backend: its sequences (`n`, vLLM runs
 * each as its own) and their projected KV tokens, each the prompt (estimated
 * from its characters) plus the expected answer: `max_tokens` when it is
 * smaller than `expectedAnswerTokens`, else that.
 */
export function requestLoad(body: unknown, expectedAnswerTokens: number): RequestLoad {
  const b = (typeof body === "object" && body !== null ? body : {}) as { n?: unknown; max_tokens?: unknown; messages?: unknown; prompt?: unknown };
  const sequences = typeof b.n === "number" && b.n >= 1 ? Math.floor(b.n) : 1;
  const text = b.messages !== undefined ? JSON.stringify(b.messages) : typeof b.prompt === "string" ? b.prompt : "";
  const prompt = Math.ceil(text.length / CHARS_PER_TOKEN);
  const answer = typeof b.max_tokens === "number" && b.max_tokens > 0 ? Math.min(b.max_tokens, expectedAnswerTokens) : expectedAnswerTokens;
  return { sequences, kvTokens: prompt + sequences * answer };
}

/** One of `items`, at random with the given non-negative weights (the last when they are all 0). */
export function weightedPick<T>(items: readonly T[], weights: readonly number[], random: () => number): T {
  const total = weights.reduce((a, b) => a + b, 0);
  let pick = random() * total;
  for (let i = 0; i < items.length; i++) {
    pick -= weights[i]!;
    if (pick < 0) return items[i]!;
  }
  return items[items.length - 1]!;
}
