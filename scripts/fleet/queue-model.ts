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
import { VirtualClock } from "../../gpu/sim/fleet/clock";
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
  // The simulator's event clock, its unit here the trace's simulated seconds: events run in time order, ties in the order scheduled.
  const clock = new VirtualClock();
  const free = Array.from({ length: setup.servers }, () => setup.slots);
  const queued: { request: number; seconds: number }[][] = Array.from({ length: setup.servers }, () => []);
  const held: number[] = [];
  const waits: (number | null)[] = trace.map(() => null);
  const asked = new Set<string>();
  let next = 0;

  const start = (server: number) => {
    const queue = queued[server]!;
    while (free[server]! > 0 && queue.length > 0) {
      const seq = queue.shift()!;
      free[server]!--;
      waits[seq.request] ??= clock.now() - trace[seq.request]!.at;
      clock.schedule(clock.now() + seq.seconds, () => {
        free[server]!++;
        start(server);
        if (dispatch === "pooled") dispatchHeld();
      });
    }
  };
  const enqueue = (request: number, server: number) => {
    const r = trace[request]!;
    for (let k = 0; k < r.n; k++) queued[server]!.push({ request, seconds: r.answerTokens * setup.stepSeconds });
    start(server);
  };
  const dispatchHeld = () => {
    while (held.length > 0) {
      let most = 0;
      let best: number[] = [];
      for (let s = 0; s < setup.servers; s++) {
        const room = free[s]! - queued[s]!.length;
        if (room > most) [most, best] = [room, [s]];
        else if (room === most && room > 0) best.push(s);
      }
      if (best.length === 0) return;
      enqueue(held.shift()!, best[Math.floor(random() * best.length)]!);
    }
  };
  // Each arrival schedules the next, so the clock holds only what is in flight.
  const arrive = (i: number) =>
    clock.schedule(trace[i]!.at, () => {
      const r = trace[i]!;
      if (r.deterministic && asked.has(r.question)) waits[i] = 0;
      else if (dispatch === "round-robin") enqueue(i, next++ % setup.servers);
      else {
        held.push(i);
        dispatchHeld();
      }
      if (r.deterministic) asked.add(r.question);
      if (i + 1 < trace.length) arrive(i + 1);
    });
  if (trace.length > 0) arrive(0);
  clock.runUntilIdle();
  return waits.map((w) => w ?? 0);
}
