/**
 * @module fleet/queue-model
 * A check of `npm run fleet`'s measurement: the same trace replayed through
 * a plain queueing model, with no gateway, no network and no KV limit.
 * `servers` backends of `slots` sequences each (vLLM's --max-num-seqs);
 * each of a request's `n` sequences takes one slot for its answer length
 * times the step; a backend starts its queued sequences first come first
 * served as slots free (vLLM's waiting queue); a repeat of an earlier
 * deterministic question is a cache hit (no wait, no slot). Two dispatchers:
 * - `round-robin`: request i (cache hits skipped) to backend i mod servers,
 *   whatever its queue;
 * - `pooled`: one queue at the edge, first come first served, each request
 *   given to the backend with the most free slots once one has a free slot
 *   (ties at random): the ideal that load-aware routing approximates
 *   without knowing answer lengths.
 * A request's time to first token here is the wait until its first sequence
 * starts. What the measured figures add to it is the system's own: prefill,
 * relay, the router's estimates and its KV hold.
 */
import { prng, type TraceRequest } from "./trace";

export type ModelDispatch = "round-robin" | "pooled";

export interface QueueModelSetup {
  servers: number;
  slots: number;
  /** Simulated seconds a sequence takes per answer token. */
  stepSeconds: number;
}

/** Each request's wait to its first sequence's start, in trace order (0 for a cache hit). */
export function modelWaits(trace: readonly TraceRequest[], setup: QueueModelSetup, dispatch: ModelDispatch, seed = 1): number[] {
  const random = prng(seed);
  const free = Array.from({ length: setup.servers }, () => setup.slots);
  const queued: { request: number; seconds: number }[][] = Array.from({ length: setup.servers }, () => []);
  const ends = new MinHeap();
  const held: number[] = [];
  const waits: (number | null)[] = trace.map(() => null);
  const asked = new Set<string>();
  let next = 0;

  const start = (server: number, now: number) => {
    const queue = queued[server]!;
    while (free[server]! > 0 && queue.length > 0) {
      const seq = queue.shift()!;
      free[server]!--;
      waits[seq.request] ??= now - trace[seq.request]!.at;
      ends.push(now + seq.seconds, server);
    }
  };
  const enqueue = (request: number, server: number, now: number) => {
    const r = trace[request]!;
    for (let k = 0; k < r.n; k++) queued[server]!.push({ request, seconds: r.answerTokens * setup.stepSeconds });
    start(server, now);
  };
  const dispatchHeld = (now: number) => {
    while (held.length > 0) {
      let most = 0;
      let best: number[] = [];
      for (let s = 0; s < setup.servers; s++) {
        const room = free[s]! - queued[s]!.length;
        if (room > most) [most, best] = [room, [s]];
        else if (room === most && room > 0) best.push(s);
      }
      if (best.length === 0) return;
      enqueue(held.shift()!, best[Math.floor(random() * best.length)]!, now);
    }
  };

  for (let i = 0; i < trace.length || ends.size > 0; ) {
    const arrival = i < trace.length ? trace[i]!.at : Infinity;
    if (arrival <= ends.peekTime()) {
      const r = trace[i]!;
      if (r.deterministic && asked.has(r.question)) waits[i] = 0;
      else if (dispatch === "round-robin") enqueue(i, next++ % setup.servers, arrival);
      else {
        held.push(i);
        dispatchHeld(arrival);
      }
      if (r.deterministic) asked.add(r.question);
      i++;
    } else {
      const { time, server } = ends.pop();
      free[server]!++;
      start(server, time);
      if (dispatch === "pooled") dispatchHeld(time);
    }
  }
  return waits.map((w) => w ?? 0);
}

/** A binary min-heap of (time, server). */
class MinHeap {
  #items: { time: number; server: number }[] = [];
  get size(): number {
    return this.#items.length;
  }
  peekTime(): number {
    return this.#items[0]?.time ?? Infinity;
  }
  push(time: number, server: number): void {
    const a = this.#items;
    a.push({ time, server });
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.time <= a[i]!.time) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }
  pop(): { time: number; server: number } {
    const a = this.#items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.time < a[m]!.time) m = l;
        if (r < a.length && a[r]!.time < a[m]!.time) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
