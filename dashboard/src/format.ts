/**
 * @module format
 * Numbers, money, durations and times as an operator reads them, in the
 * viewer's locale and time zone (the browser's own). Money arrives as integer
 * micro-dollars and is only turned into dollars here, for display.
 */
import type { SeriesBucket } from "../../shared/usage-series";

const MICRO_PER_USD = 1_000_000;
const MS_PER_SECOND = 1_000;
const MS_PER_MINUTE = 60_000;

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** `1,234` below ten thousand, `12.3K` / `4.5M` above. */
export function formatCount(n: number): string {
  return Math.abs(n) < 10_000 ? integer.format(n) : compact.format(n);
}

/** Every digit: for tables and tooltips where the exact figure matters. */
export function formatExact(n: number): string {
  return integer.format(n);
}

/** Micro-dollars as dollars: cents for a dollar or more, up to six decimals below (a request costs fractions of a cent). */
export function formatUsd(micro: number): string {
  const usd = micro / MICRO_PER_USD;
  if (micro === 0) return "$0";
  const digits = Math.abs(usd) >= 1 ? 2 : Math.abs(usd) >= 0.01 ? 4 : 6;
  return `$${usd.toLocaleString(undefined, { minimumFractionDigits: Math.min(digits, 2), maximumFractionDigits: digits })}`;
}

/** `850 ms`, `12.3 s`, `5.2 min`; an em dash for no value. */
export function formatMs(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < MS_PER_SECOND) return `${integer.format(ms)} ms`;
  if (ms < MS_PER_MINUTE) return `${oneDecimal.format(ms / MS_PER_SECOND)} s`;
  return `${oneDecimal.format(ms / MS_PER_MINUTE)} min`;
}

/** A fraction as a percentage: `2.5%`; an em dash for no value. */
export function formatPercent(fraction: number | null): string {
  if (fraction === null) return "—";
  return `${new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: fraction < 0.1 ? 1 : 0 }).format(fraction)}`;
}

const dayLabel = new Intl.DateTimeFormat(undefined, { weekday: "short", month: "short", day: "numeric" });
const timeLabel = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const clockLabel = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateLabel = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

/** A bucket's start as its row label: the day for daily buckets, day and time otherwise. */
export function formatBucket(ms: number, bucket: SeriesBucket): string {
  return bucket === "day" ? dayLabel.format(ms) : timeLabel.format(ms);
}

/** A wall-clock time (last refresh, last health check). */
export function formatClock(ms: number): string {
  return clockLabel.format(ms);
}

/** A calendar date (account creation): Unix seconds, as the admin API gives them. */
export function formatDateSeconds(seconds: number): string {
  return dateLabel.format(seconds * MS_PER_SECOND);
}

/** The viewer's IANA time zone (`Europe/Paris`), which the API aligns buckets to. */
export function viewerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** `3 s ago`, `4 min ago`: how old a health check is. */
export function formatAge(ms: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - ms) / MS_PER_SECOND));
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`;
}
