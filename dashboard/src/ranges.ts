/**
 * @module ranges
 * The dashboard's time ranges: the last hour in 5-minute buckets, the last
 * day in hours, the last 7 and 30 days in calendar days, all in the viewer's
 * time zone. Each range ends with the bucket that holds `now`, so it always
 * has the same number of points (the plots' and the browser tests' count).
 */
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

const FIVE_MINUTES_MS = 300_000;
const HOUR_MS = 3_600_000;

/** The API query of a range at `now`: `from`/`to` as ISO instants, the bucket and the viewer's time zone. */
export interface RangeWindow {
  from: number;
  to: number;
  bucket: SeriesBucket;
  points: number;
}

/** Where a range starts and ends, in the browser's time zone (`Date`'s local fields). */
export function rangeWindow(id: RangeId, now: number): RangeWindow {
  const spec = RANGES[id];
  const local = new Date(now);
  let to: number;
  if (spec.bucket === "day") {
    to = new Date(local.getFullYear(), local.getMonth(), local.getDate() + 1).getTime();
    const from = new Date(local.getFullYear(), local.getMonth(), local.getDate() + 1 - spec.points).getTime();
    return { from, to, bucket: spec.bucket, points: spec.points };
  }
  const width = spec.bucket === "hour" ? HOUR_MS : FIVE_MINUTES_MS;
  // Local minutes, not UTC ones: in a zone half an hour off UTC an hour starts at :30 UTC.
  const start = new Date(now);
  start.setSeconds(0, 0);
  start.setMinutes(spec.bucket === "hour" ? 0 : Math.floor(start.getMinutes() / 5) * 5);
  to = start.getTime() + width;
  return { from: to - spec.points * width, to, bucket: spec.bucket, points: spec.points };
}

export function isRangeId(value: string | null): value is RangeId {
  return value !== null && (RANGE_IDS as readonly string[]).includes(value);
}

/** The query string of the series endpoints for a range at `now`, aligned to the viewer's zone `tz`. */
export function seriesQuery(id: RangeId, now: number, tz: string): { from: string; to: string; bucket: SeriesBucket; tz: string } {
  const w = rangeWindow(id, now);
  return { from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString(), bucket: w.bucket, tz };
}
