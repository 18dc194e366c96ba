/**
 * @module ranges
 * The dashboard's time ranges: the last hour in 5-minute buckets, the last
 * day in hours, the last 7 and 30 days in calendar days, all in the viewer's
 * time zone. Each range ends with the bucket that holds `now`, so it always
 * has the same number of points (the plots' and the browser tests' count).
 * Boundaries come from shared/time-buckets, as the Worker's do.
 */
import { bucketStart, nextBucketStart, previousBucketStart } from "../../shared/time-buckets";
import type { SeriesBucket } from "../../shared/usage-series";

export const RANGE_IDS = ["1h", "24h", "7d", "30d"] as const;
export type RangeId = (typeof RANGE_IDS)[number];
export const DEFAULT_RANGE: RangeId = "24h";

export interface RangeSpec {
  label: string;
  bucket: SeriesBucket;
  points: number;
}

export const RANGES: Readonly<Record<RangeId, RangeSpec>> = {
  "1h": { label: "Last hour", bucket: "5min", points: 12 },
  "24h": { label: "Last day", bucket: "hour", points: 24 },
  "7d": { label: "7 days", bucket: "day", points: 7 },
  "30d": { label: "30 days", bucket: "day", points: 30 },
};

export interface RangeWindow {
  /** Start of the first bucket, Unix ms. */
  from: number;
  /** End of the last bucket (the one holding `now`), Unix ms. */
  to: number;
  bucket: SeriesBucket;
  points: number;
}

/** Where range `id` starts and ends at `now` in `tz`. */
export function rangeWindow(id: RangeId, now: number, tz: string): RangeWindow {
  const { bucket, points } = RANGES[id];
  const current = bucketStart(now, bucket, tz);
  let from = current;
  for (let i = 1; i < points; i++) from = previousBucketStart(from, bucket, tz);
  return { from, to: nextBucketStart(current, bucket, tz), bucket, points };
}

/** The series endpoints' query for range `id` at `now`, aligned to the viewer's zone `tz`. */
export function seriesQuery(id: RangeId, now: number, tz: string): { from: string; to: string; bucket: SeriesBucket; tz: string } {
  const w = rangeWindow(id, now, tz);
  return { from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString(), bucket: w.bucket, tz };
}

export function isRangeId(value: string | null): value is RangeId {
  return value !== null && (RANGE_IDS as readonly string[]).includes(value);
}
