/**
 * @module eval-stats
 * The statistics of an evaluation: the Wilson score interval for an accuracy
 * (right near 0 and 1, where the normal approximation gives intervals
 * outside [0, 1] and too narrow), a normal interval for a mean of per-problem
 * rates (pass@1 over K samples), the unbiased pass@k estimator of Chen et
 * al. 2021 ("Evaluating Large Language Models Trained on Code", eq. 1), and
 * percentiles.
 */
export { percentile } from "../../bench/stats";

/** The standard normal quantile for a two-sided 95% interval. */
export const Z_95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

/** Wilson score interval for `successes` out of `trials` at `z` (95% by default); [0, 1] for no trials. */
export function wilsonInterval(successes: number, trials: number, z = Z_95): Interval {
  if (trials <= 0) return { low: 0, high: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  // At the ends the bound is exactly 0 or 1; floating point gives -1e-17 or 0.9999999999999999.
  return { low: successes <= 0 ? 0 : Math.max(0, centre - half), high: successes >= trials ? 1 : Math.min(1, centre + half) };
}

/**
 * A 95% interval for the mean of per-problem values in [0, 1] (each problem's
 * share of correct samples): mean ± z·s/√n with the sample standard deviation,
 * clamped to [0, 1]. With one value, or all equal, it falls back to Wilson on
 * the rounded total so it never collapses to a point.
 */
export function meanInterval(values: readonly number[], z = Z_95): Interval {
  const n = values.length;
  if (n === 0) return { low: 0, high: 1 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  if (variance === 0) return wilsonInterval(Math.round(mean * n), n, z);
  const half = z * Math.sqrt(variance / n);
  return { low: Math.max(0, mean - half), high: Math.min(1, mean + half) };
}

/**
 * The unbiased estimate of pass@k from `n` samples of which `c` are correct:
 * 1 - C(n-c, k) / C(n, k), computed as a product so large n does not overflow.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 1 || k < 1 || c < 0 || c > n || k > n) {
    throw new RangeError(`passAtK needs integers 0 <= c <= n and 1 <= k <= n, got n=${n} c=${c} k=${k}`);
  }
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

/** Mean of the values; NaN when there are none. */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
