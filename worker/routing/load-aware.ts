/**
 * @module routing/load-aware
 * The `load-aware` routing policy (ROUTING_POLICY=load-aware), after llm-d's
 * inference scheduler and vLLM's production-stack router: send a request
 * where its sequences start at once, and otherwise hold it at our edge and
 * give it to the first backend that frees a sequence, rather than queue it
 * blindly behind one backend's batch. A request that starts at once waits
 * for a prefill; one that queues in vLLM (or at Modal's edge) waits for a
 * whole answer to finish, minutes for LIMO.
 *
 * What is known, and only that (what the router knows behind Modal): our
 * own leases, exact (the pool object counts every request it routed, with
 * its sequences, `n` counted, its prompt, its expected answer and when it
 * started); each backend's `max_sequences`, `kv_tokens` and
 * `decode_tokens_per_second` from BACKENDS; warm or cold (the health rank
 * the caller grouped by); the time. vLLM's `/metrics` is not used here:
 * behind Modal it is one container's view, a minute old, and blind to
 * Modal's edge queue.
 *
 * Each lease's progress is estimated as its age times the backend's decode
 * rate per sequence, so its remaining work is its expected answer less
 * that; past its expectation, up to its `max_tokens`. A lease whose last
 * sequence (from when it was expected to start: at once, or as our other
 * leases there end when some of its sequences queued in vLLM) would be
 * well past its `max_tokens` has ended, whether or not its release has
 * come (a gateway reading a stream late releases it late; vLLM freed the
 * sequence at its last token). From the leases that have not ended, per
 * backend:
 * - sequences in use: the sum of its leases' `n`; free = `max_sequences`
 *   less that (unknown `max_sequences`: always free);
 * - the projected KV peak: the KV its leases will hold, each growing a token
 *   per step until it ends, with this request added, at the worst instant
 *   (just before one of them ends); the prompt counted once per request, as
 *   vLLM's prefix cache shares it among the `n` sequences.
 * The rules, in order:
 * 1. A backend is open when it has a free sequence and its projected KV
 *    peak stays within KV_HOLD_FRACTION of `kv_tokens` (an idle backend is
 *    always open, however large the request).
 * 2. Among open backends: the most free sequences (where all of an `n` > 1
 *    request's sequences start, room for the next one, and a smaller batch
 *    decodes faster), then the lowest projected KV peak relative to
 *    `kv_tokens` (without it, the fewest sequences per unit of `weight`),
 *    then at random by weight.
 * 3. No backend open: `held`. The router holds the request (keep-alives to
 *    a streaming client, the held time counts in its TTFT) and the pool
 *    gives it, first come first served, to the first backend that opens: a
 *    lease ends (its sequence is free at once) or an estimate runs out.
 * 4. Past ROUTING_HOLD_MS (`overflow`), the backend expected to free a
 *    sequence first takes it anyway, so a hold never turns into a refusal.
 */
import type { BackendView, Candidate, LeaseLoad, RequestLoad } from "./pool-rpc";

/** A load-aware pick: a backend, or `saturated` (hold the request). */
export type LoadAwarePick = { ok: true; key: string } | { ok: false; reason: "saturated"; retryAfterMs: number };

/** Share of a backend's KV capacity our projected peak may reach before requests are held. */
export const KV_HOLD_FRACTION = 0.9;

/**
 * Tokens a second one sequence decodes at when BACKENDS gives no
 * `decode_tokens_per_second`: `h200-bf16` with a full KV cache, a 27.8 ms
 * step (gpu/sim/perf/profiles.md), rounded down.
 */
export const DEFAULT_DECODE_TOKENS_PER_SECOND = 35;

/**
 * Bounds of the wait before a held request's backends are looked at again
 * without a lease ending (an estimate may run out meanwhile), in ms.
 */
export const HOLD_RECHECK_MIN_MS = 100;
export const HOLD_RECHECK_MAX_MS = 1_000;

/** A backend as load-aware sees it at `now`. */
export interface BackendLoad {
  /** Sequences our leases run on it. */
  sequences: number;
  /** Sequences that could start now (Infinity when `max_sequences` is unknown). */
  free: number;
  /** Projected KV peak, in tokens, with the request added. */
  peakKvTokens: number;
  /** Whether the request could start there now (rule 1). */
  open: boolean;
  /** Ms until a sequence is expected to free (0 when one is free now). */
  msUntilFree: number;
}

/**
 * How far past its `max_tokens` (as a share of it) a lease's estimated
 * progress must be before it counts as ended without its release: room for
 * a decode rate a little slower than configured and for its prefill.
 */
export const END_MARGIN = 0.1;

/** Tokens each of a lease's sequences would have produced by `now` at the decode rate (no bound). */
function decodedTokens(lease: LeaseLoad, now: number, tokensPerSecond: number): number {
  return (Math.max(0, now - lease.startedAt) * tokensPerSecond) / 1000;
}

/** Tokens each of a lease's sequences has produced by `now` (estimated): at most its `max_tokens`, or its expected answer without one. */
export function producedTokens(lease: LeaseLoad, now: number, tokensPerSecond: number): number {
  return Math.min(lease.capTokens ?? lease.answerTokens, decodedTokens(lease, now, tokensPerSecond));
}

/**
 * Tokens each of a lease's sequences is expected still to produce: its
 * expected answer less its progress; past that, up to its `max_tokens` (an
 * answer longer than expected may run to its cap); 0 without a cap.
 */
export function remainingTokens(lease: LeaseLoad, now: number, tokensPerSecond: number): number {
  const done = decodedTokens(lease, now, tokensPerSecond);
  if (done < lease.answerTokens) return lease.answerTokens - done;
  return lease.capTokens === null ? 0 : Math.max(0, lease.capTokens - done);
}

/** When a lease's last sequence is expected to produce its `max_tokens`, END_MARGIN included (Unix ms); null: unknown. */
function expectedEndAt(lease: LeaseLoad, tokensPerSecond: number): number | null {
  if (lease.capTokens === null || lease.allStartedBy === null) return null;
  return lease.allStartedBy + ((lease.capTokens * (1 + END_MARGIN)) / tokensPerSecond) * 1000;
}

/**
 * Whether a lease has ended by the estimate, its release not yet here: its
 * last sequence, from when it was expected to start, would be END_MARGIN
 * past its `max_tokens`, which vLLM never goes beyond. The release of a
 * stream read late (a busy gateway) frees its sequence only then; vLLM
 * freed it at its last token.
 */
export function endedByEstimate(lease: LeaseLoad, now: number, tokensPerSecond: number): boolean {
  const end = expectedEndAt(lease, tokensPerSecond);
  return end !== null && now >= end;
}

/**
 * When all of a request's `sequences` are expected to have started on
 * `candidate` (Unix ms): now when each has a free sequence; else when
 * enough of our leases there are expected to have ended (by their
 * `max_tokens`, the latest they can), as vLLM admits its queued sequences
 * then; null when some of those leases have no `max_tokens`.
 */
export function expectedAllStartedBy(candidate: Candidate, leases: readonly LeaseLoad[], sequences: number, now: number): number | null {
  const rate = candidate.decodeTokensPerSecond ?? DEFAULT_DECODE_TOKENS_PER_SECOND;
  const live = leases.filter((l) => !endedByEstimate(l, now, rate));
  const used = live.reduce((n, l) => n + l.sequences, 0);
  if (candidate.maxSequences == null || used + sequences <= candidate.maxSequences) return now;
  const waiting = used + sequences - candidate.maxSequences;
  const ends: number[] = [];
  for (const l of live) {
    const end = expectedEndAt(l, rate);
    if (end === null) return null;
    for (let i = 0; i < l.sequences; i++) ends.push(Math.max(now, end));
  }
  ends.sort((a, b) => a - b);
  return ends[Math.min(waiting, ends.length) - 1] ?? now;
}

/**
 * The most KV our leases (and `adding`, starting now) will hold at once if
 * nothing else is admitted: each holds its prompt plus what its sequences
 * produced, growing a token per sequence per step until it ends. KV only
 * grows between two ends, so the peak is just before one of them.
 */
export function projectedPeakKv(leases: readonly LeaseLoad[], adding: RequestLoad | null, now: number, tokensPerSecond: number): number {
  const live = leases.map((l) => ({ prompt: l.promptTokens, sequences: l.sequences, done: producedTokens(l, now, tokensPerSecond), left: remainingTokens(l, now, tokensPerSecond) }));
  if (adding) live.push({ prompt: adding.promptTokens, sequences: adding.sequences, done: 0, left: adding.answerTokens });
  let peak = 0;
  for (const at of [0, ...live.map((l) => l.left)]) {
    let kv = 0;
    for (const l of live) if (l.left >= at) kv += l.prompt + l.sequences * (l.done + at);
    peak = Math.max(peak, kv);
  }
  return peak;
}

/** What `candidate` holds of ours at `now`, and whether a request of `adding` could start there (rule 1). */
export function backendLoad(candidate: Candidate, view: BackendView, adding: RequestLoad | null, now: number): BackendLoad {
  const rate = candidate.decodeTokensPerSecond ?? DEFAULT_DECODE_TOKENS_PER_SECOND;
  const leases = (view.leases ?? []).filter((l) => !endedByEstimate(l, now, rate));
  const sequences = leases.reduce((s, l) => s + l.sequences, 0);
  const free = candidate.maxSequences == null ? Infinity : Math.max(0, candidate.maxSequences - sequences);
  const peakKvTokens = projectedPeakKv(leases, adding, now, rate);
  const kvRoom = candidate.kvTokens == null || sequences === 0 || peakKvTokens <= KV_HOLD_FRACTION * candidate.kvTokens;
  const open = (free >= 1 || sequences === 0) && kvRoom;
  const soonest = leases.length === 0 ? 0 : Math.min(...leases.map((l) => (remainingTokens(l, now, rate) / rate) * 1000));
  return { sequences, free, peakKvTokens, open, msUntilFree: free >= 1 ? 0 : soonest };
}

/** Rules 1-4 over `group` (the warmest candidates with a free slot and a closed breaker). */
export function pickLoadAware(
  group: readonly Candidate[],
  view: (key: string) => BackendView,
  load: RequestLoad | null,
  overflow: boolean,
  now: number,
  random: () => number,
): LoadAwarePick {
  const scored = group.map((c) => ({ c, load: backendLoad(c, view(c.key), load, now) }));
  const open = scored.filter((s) => s.load.open);
  if (open.length === 0 && !overflow) {
    const soonest = Math.min(...scored.map((s) => s.load.msUntilFree));
    return { ok: false, reason: "saturated", retryAfterMs: Math.min(HOLD_RECHECK_MAX_MS, Math.max(HOLD_RECHECK_MIN_MS, Math.ceil(soonest))) };
  }
  if (open.length === 0) {
    const first = Math.min(...scored.map((s) => s.load.msUntilFree));
    const soonest = scored.filter((s) => s.load.msUntilFree <= first + 1e-9);
    return { ok: true, key: weightedPick(soonest, soonest.map((s) => s.c.weight), random).c.key };
  }
  const wanted = load?.sequences ?? 1;
  const pressure = (s: (typeof open)[number]) =>
    s.c.kvTokens != null ? s.load.peakKvTokens / s.c.kvTokens : (s.load.sequences + wanted) / s.c.weight;
  const better = (a: (typeof open)[number], b: (typeof open)[number]) => {
    if (a.load.free !== b.load.free) return a.load.free === Infinity ? -1 : b.load.free === Infinity ? 1 : b.load.free - a.load.free;
    return pressure(a) - pressure(b);
  };
  const sorted = [...open].sort(better);
  const tied = sorted.filter((s) => Math.abs(better(s, sorted[0]!)) < 1e-9);
  return { ok: true, key: weightedPick(tied, tied.map((s) => s.c.weight), random).c.key };
}

/** Characters per token when a prompt's size is estimated from its text (English and LaTeX, Qwen's tokenizer). */
const CHARS_PER_TOKEN = 4;

/**
 * What one backend request adds to a backend: its sequences (`n`, vLLM runs
 * each as its own), its prompt (estimated from its characters, shared by
 * the sequences), and each sequence's expected answer: `max_tokens` when it
 * is smaller than `expectedAnswerTokens`, else that; `kvTokens` is their
 * full-length KV.
 */
export function requestLoad(body: unknown, expectedAnswerTokens: number): RequestLoad {
  const b = (typeof body === "object" && body !== null ? body : {}) as { n?: unknown; max_tokens?: unknown; messages?: unknown; prompt?: unknown };
  const sequences = typeof b.n === "number" && b.n >= 1 ? Math.floor(b.n) : 1;
  const text = b.messages !== undefined ? JSON.stringify(b.messages) : typeof b.prompt === "string" ? b.prompt : "";
  const promptTokens = Math.ceil(text.length / CHARS_PER_TOKEN);
  const capTokens = typeof b.max_tokens === "number" && b.max_tokens > 0 ? Math.floor(b.max_tokens) : null;
  const answerTokens = capTokens !== null ? Math.min(capTokens, expectedAnswerTokens) : expectedAnswerTokens;
  return { sequences, promptTokens, answerTokens, capTokens, kvTokens: promptTokens + sequences * answerTokens };
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
