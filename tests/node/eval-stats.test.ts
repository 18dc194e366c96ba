/**
 * The statistics of `npm run eval`: Wilson intervals against published
 * values, pass@k against the binomial formula computed exactly, the mean
 * interval's fallbacks, and percentiles.
 */
import { describe, expect, it } from "vitest";
import { meanInterval, passAtK, percentile, wilsonInterval } from "../../scripts/eval/stats";

/** C(n, k) exactly. */
function choose(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let result = 1n;
  for (let i = 0; i < k; i++) result = (result * BigInt(n - i)) / BigInt(i + 1);
  return result;
}

describe("wilsonInterval", () => {
  it("matches the textbook values (Newcombe 1998: 81/263 gives 0.2553-0.3662)", () => {
    const { low, high } = wilsonInterval(81, 263);
    expect(low).toBeCloseTo(0.2553, 4);
    expect(high).toBeCloseTo(0.3662, 4);
  });

  it("stays inside [0, 1] and is not a point at 0 or n successes", () => {
    const none = wilsonInterval(0, 10);
    expect(none.low).toBe(0);
    expect(none.high).toBeCloseTo(0.2775, 4);
    const all = wilsonInterval(30, 30);
    expect(all.high).toBe(1);
    expect(all.low).toBeCloseTo(0.8865, 4);
  });

  it("narrows as trials grow and always holds the observed rate", () => {
    let width = Infinity;
    for (const n of [10, 50, 500, 5000]) {
      const { low, high } = wilsonInterval(0.9 * n, n);
      expect(low).toBeLessThan(0.9);
      expect(high).toBeGreaterThan(0.9);
      expect(high - low).toBeLessThan(width);
      width = high - low;
    }
  });

  it("is [0, 1] with no trials", () => {
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });
});

describe("passAtK (Chen et al. 2021)", () => {
  it("equals 1 - C(n-c, k) / C(n, k) for every c and k of n = 20", () => {
    const n = 20;
    for (let c = 0; c <= n; c++) {
      for (let k = 1; k <= n; k++) {
        const exact = 1 - Number((choose(n - c, k) * 10n ** 15n) / choose(n, k)) / 1e15;
        expect(passAtK(n, c, k)).toBeCloseTo(exact, 12);
      }
    }
  });

  it("is c/n at k = 1 and any-correct at k = n", () => {
    expect(passAtK(8, 3, 1)).toBeCloseTo(3 / 8, 12);
    expect(passAtK(8, 1, 8)).toBe(1);
    expect(passAtK(8, 0, 8)).toBe(0);
  });

  it("does not overflow for large n", () => {
    expect(passAtK(1000, 500, 10)).toBeCloseTo(1 - 0.5 ** 10, 3);
  });

  it("refuses impossible arguments", () => {
    expect(() => passAtK(4, 5, 1)).toThrow(RangeError);
    expect(() => passAtK(4, 1, 5)).toThrow(RangeError);
    expect(() => passAtK(4, 1, 0)).toThrow(RangeError);
  });
});

describe("meanInterval", () => {
  it("is mean ± 1.96 s/√n for varied per-problem rates", () => {
    const values = [0, 0.25, 0.5, 0.75, 1, 1, 0.5, 0.25];
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
    const { low, high } = meanInterval(values);
    expect(low).toBeCloseTo(mean - 1.959964 * (sd / Math.sqrt(values.length)), 5);
    expect(high).toBeCloseTo(mean + 1.959964 * (sd / Math.sqrt(values.length)), 5);
  });

  it("falls back to Wilson when every problem has the same rate, so it is never a point", () => {
    expect(meanInterval([1, 1, 1, 1])).toEqual(wilsonInterval(4, 4));
    expect(meanInterval([])).toEqual({ low: 0, high: 1 });
  });
});

describe("percentile", () => {
  it("interpolates between closest ranks", () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(values, 50)).toBe(5.5);
    expect(percentile(values, 95)).toBeCloseTo(9.55, 10);
    expect(percentile([7], 95)).toBe(7);
  });
});
