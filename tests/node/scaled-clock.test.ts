/**
 * @module node/scaled-clock.test
 * `scaledClock` maps wall time onto simulated time; a callback scheduled for
 * a simulated instant must never see `now()` short of it. Node's timers can
 * fire a millisecond before `Date.now()` says they are due, which at a scale
 * of 1,000 is a simulated second early (tests/node/sim-fleet.test.ts once saw
 * a 600 s boot end after 599 s). The wall clock here is Vitest's fake one,
 * read through an injected `wallNow` that lags it, so the early wake-up
 * happens on every run.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { scaledClock } from "../../gpu/sim/fleet/clock";

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe("scaledClock", () => {
  it("a timer that wakes before the wall clock says it is due sleeps the rest: the callback sees now() >= its instant", () => {
    let lagMs = 0;
    const clock = scaledClock(1000, () => Date.now() - lagMs);
    const seen: number[] = [];
    clock.schedule(600_000, () => seen.push(clock.now()));
    lagMs = 1; // from here on the wall clock reads 1 ms behind the timers
    vi.advanceTimersByTime(600);
    expect(seen).toEqual([]); // woke at 599 simulated seconds: not yet
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([600_000]);
  });

  it("cancelling after an early wake-up cancels the re-armed wait", () => {
    let lagMs = 0;
    const clock = scaledClock(1000, () => Date.now() - lagMs);
    const seen: number[] = [];
    const cancel = clock.schedule(600_000, () => seen.push(clock.now()));
    lagMs = 1;
    vi.advanceTimersByTime(600);
    cancel();
    vi.advanceTimersByTime(10);
    expect(seen).toEqual([]);
  });

  it("an instant already past runs in a later task, not inside schedule()", () => {
    const clock = scaledClock(100);
    vi.advanceTimersByTime(50);
    const seen: number[] = [];
    clock.schedule(1_000, () => seen.push(clock.now()));
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(seen).toEqual([5_000]);
  });

  it("maps wall time by its scale, and refuses a scale that is not a positive number", () => {
    const clock = scaledClock(100);
    vi.advanceTimersByTime(6);
    expect(clock.now()).toBe(600);
    expect(clock.scale).toBe(100);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => scaledClock(bad)).toThrow(RangeError);
  });
});
