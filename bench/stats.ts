/**
 * @module stats
 * The arithmetic of the benchmark: percentiles of one run's samples, medians
 * across runs, and gateway-over-floor ratios oriented so that higher is
 * always worse.
 */

/** The p-th percentile (0..100) by linear interpolation between closest ranks; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (Math.min(Math.max(p, 0), 100) / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/**
 * How much worse the gateway is than the floor on one figure: gateway/floor
 * where lower is better (latency, CPU, size), floor/gateway where higher is
 * better (throughput). 1 means no cost; null when either side is missing.
 */
export function overFloor(gateway: number | undefined, floor: number | undefined, higherIsBetter: boolean): number | null {
  if (gateway === undefined || floor === undefined || !Number.isFinite(gateway) || !Number.isFinite(floor)) return null;
  const [worse, better] = higherIsBetter ? [floor, gateway] : [gateway, floor];
  return better === 0 ? null : worse / better;
}

/** Rounds for display and JSON: 3 significant digits below 100, whole numbers above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}
