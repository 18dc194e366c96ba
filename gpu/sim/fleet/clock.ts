/**
 * @module fleet/clock
 * Simulated time for the GPU fleet model. Everything in gpu/sim/fleet runs
 * on a `SimClock` in simulated milliseconds: a `VirtualClock` that tests
 * advance by hand (deterministic, no sleeping), or a `scaledClock` that
 * maps wall time onto simulated time (`SIM_TIME_SCALE=100` runs a simulated
 * minute in 0.6 s). Only Web APIs (setTimeout), so it runs in workerd too.
 */

/** Cancels a scheduled callback; calling it twice, or after it ran, is harmless. */
export type CancelTimer = () => void;

/** A source of simulated time that can run callbacks at a simulated instant. */
export interface SimClock {
  /** Simulated milliseconds since the clock's origin. */
  now(): number;
  /** Runs `fn` once simulated time reaches `atMs` (at once, in a later task, if already past). */
  schedule(atMs: number, fn: () => void): CancelTimer;
  /** Simulated milliseconds per wall millisecond (1 for real time; tests' virtual clocks report 1). */
  readonly scale: number;
}

/** Shortest wall wait between wake-ups, in ms: finer timers only burn CPU, steps are batched instead. */
const MIN_WAKE_WALL_MS = 2;

/** Wall time scaled by `scale` (> 0): simulated ms = wall ms since creation x scale. */
export function scaledClock(scale: number, wallNow: () => number = () => Date.now()): SimClock {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`time scale must be a positive number, got ${scale}`);
  const origin = wallNow();
  const now = () => (wallNow() - origin) * scale;
  return {
    scale,
    now,
    schedule(atMs, fn) {
      // A timer may fire before the clock it is read against says it is due
      // (Node measures timers on its cached loop time, not on Date.now, so a
      // 600 ms timer can run when Date.now says 599 ms have passed): at a
      // scale of 1,000 that is a simulated second early. So a wake-up that
      // finds `now()` short of `atMs` sleeps the rest: `fn` sees now() >= atMs.
      let timer: ReturnType<typeof setTimeout>;
      const wake = () => {
        const leftWall = (atMs - now()) / scale;
        if (leftWall > 0) timer = setTimeout(wake, Math.max(1, Math.ceil(leftWall)));
        else fn();
      };
      const waitWall = Math.max(0, (atMs - now()) / scale);
      timer = setTimeout(wake, waitWall < MIN_WAKE_WALL_MS && waitWall > 0 ? MIN_WAKE_WALL_MS : waitWall);
      return () => clearTimeout(timer);
    },
  };
}

interface Pending {
  atMs: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. `advanceTo` runs every due
 * callback in time order (ties in scheduling order), each with `now()` at
 * its own instant, including callbacks scheduled by earlier ones.
 */
export class VirtualClock implements SimClock {
  readonly scale = 1;
  #now = 0;
  #order = 0;
  #pending: Pending[] = [];

  now(): number {
    return this.#now;
  }

  schedule(atMs: number, fn: () => void): CancelTimer {
    const entry: Pending = { atMs: Math.max(atMs, this.#now), order: this.#order++, fn, cancelled: false };
    this.#pending.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }

  /** The earliest pending callback's time, or null when nothing is scheduled. */
  nextAt(): number | null {
    let best: number | null = null;
    for (const p of this.#pending) if (!p.cancelled && (best === null || p.atMs < best)) best = p.atMs;
    return best;
  }

  /** Moves to `atMs`, running every callback due on the way. */
  advanceTo(atMs: number): void {
    for (;;) {
      const next = this.#takeNext(atMs);
      if (!next) break;
      this.#now = next.atMs;
      next.fn();
    }
    this.#now = Math.max(this.#now, atMs);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /** Runs callbacks until none is left or `limitMs` is reached; returns the time reached. */
  runUntilIdle(limitMs = Number.POSITIVE_INFINITY): number {
    for (;;) {
      const at = this.nextAt();
      if (at === null || at > limitMs) return this.#now;
      this.advanceTo(at);
    }
  }

  #takeNext(limitMs: number): Pending | null {
    let bestIndex = -1;
    for (let i = 0; i < this.#pending.length; i++) {
      const p = this.#pending[i] as Pending;
      if (p.cancelled || p.atMs > limitMs) continue;
      const best = bestIndex === -1 ? null : (this.#pending[bestIndex] as Pending);
      if (!best || p.atMs < best.atMs || (p.atMs === best.atMs && p.order < best.order)) bestIndex = i;
    }
    if (bestIndex === -1) {
      this.#pending = this.#pending.filter((p) => !p.cancelled);
      return null;
    }
    const [next] = this.#pending.splice(bestIndex, 1);
    return next ?? null;
  }
}
