/**
 * Driving the simulator's VirtualClock (gpu/sim/fleet/clock) from a test:
 * time moves only when the test moves it, so nothing sleeps.
 */
import type { VirtualClock } from "../../gpu/sim/fleet/clock";

/** A macrotask turn: lets pending I/O-free promise chains (body reads, handlers) run. */
export const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Advances simulated time until `promise` settles: event by event, or at
 * least `strideMs` a turn for long runs whose every step need not be seen.
 */
export async function untilSettled<T>(clock: VirtualClock, promise: Promise<T>, strideMs = 0, limitMs = 24 * 3_600_000): Promise<T> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (;;) {
    await turn();
    if (settled) return promise;
    const at = clock.nextAt();
    if (at === null || at > limitMs) throw new Error(`nothing left to run at ${clock.now()} ms and the promise is still pending`);
    clock.advanceTo(Math.max(at, clock.now() + strideMs));
  }
}
