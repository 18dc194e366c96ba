/**
 * @module time-buckets
 * Time buckets aligned to a time zone: five minutes, an hour, or a calendar
 * day as the viewer's clock shows it. A day is not always 24 hours (daylight
 * saving) and an hour does not always start at :00 UTC (India is 5:30 ahead),
 * so boundaries come from the zone's own offsets (Intl), not from arithmetic
 * on UTC. The Worker buckets the ledger with this and the dashboard computes
 * its ranges with it, so both agree on every boundary. Pure: no clock.
 */
import type { SeriesBucket } from "./usage-series";

const FIVE_MINUTES_MS = 300_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const SECOND_MS = 1_000;

interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(tz: string): Intl.DateTimeFormat {
  let format = formats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formats.set(tz, format);
  }
  return format;
}

/** True for a time zone Intl knows (`UTC`, `Europe/Paris`); anything else would throw below. */
export function isTimeZone(tz: string): boolean {
  try {
    formatFor(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock in `tz` at the instant `ms`. */
function zonedParts(ms: number, tz: string): ZonedParts {
  const parts: Record<string, number> = {};
  for (const part of formatFor(tz).formatToParts(ms)) if (part.type !== "literal") parts[part.type] = Number(part.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** How far `tz`'s clock is ahead of UTC at `ms`, in milliseconds. */
export function zoneOffsetMs(ms: number, tz: string): number {
  const p = zonedParts(ms, tz);
  const whole = Math.floor(ms / SECOND_MS) * SECOND_MS;
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - whole;
}

/** The instant `tz`'s clock shows midnight starting the day `year-month-day` (month from 1; overflow rolls over). */
function zonedMidnight(year: number, month: number, day: number, tz: string): number {
  const wall = Date.UTC(year, month - 1, day);
  const guess = wall - zoneOffsetMs(wall, tz);
  // The offset at the guess may differ from the one at `wall` (a change of daylight saving between them).
  return wall - zoneOffsetMs(guess, tz);
}

/** The start of the bucket holding `ms`. */
export function bucketStart(ms: number, bucket: SeriesBucket, tz: string): number {
  const p = zonedParts(ms, tz);
  const fraction = ms - Math.floor(ms / SECOND_MS) * SECOND_MS;
  if (bucket === "hour") return ms - p.minute * MINUTE_MS - p.second * SECOND_MS - fraction;
  if (bucket === "5min") return ms - (p.minute % 5) * MINUTE_MS - p.second * SECOND_MS - fraction;
  const midnight = zonedMidnight(p.year, p.month, p.day, tz);
  // Where a zone skips midnight itself (a daylight-saving change at 00:00) the day starts at the first instant it has.
  return midnight <= ms ? midnight : bucketStart(midnight - HOUR_MS, "hour", tz);
}

/** The start of the bucket after the one starting at `start`. */
export function nextBucketStart(start: number, bucket: SeriesBucket, tz: string): number {
  if (bucket === "hour") return start + HOUR_MS;
  if (bucket === "5min") return start + FIVE_MINUTES_MS;
  const p = zonedParts(start, tz);
  return zonedMidnight(p.year, p.month, p.day + 1, tz);
}

/** The start of the bucket before the one starting at `start`. */
export function previousBucketStart(start: number, bucket: SeriesBucket, tz: string): number {
  return bucketStart(start - 1, bucket, tz);
}

/**
 * The starts of every bucket from the one holding `from` to the last one
 * starting before `to`, oldest first; null when there would be more than
 * `max` (the caller refuses the range).
 */
export function bucketStarts(from: number, to: number, bucket: SeriesBucket, tz: string, max: number): number[] | null {
  const starts: number[] = [];
  for (let start = bucketStart(from, bucket, tz); start < to; start = nextBucketStart(start, bucket, tz)) {
    if (starts.length === max) return null;
    starts.push(start);
  }
  return starts;
}
