/**
 * @module token-bucket
 * A token bucket that refills continuously: `capacity` units per minute, at
 * most `capacity` banked. Pure and exact: the caller (one Durable Object per
 * account) serialises every use, so N concurrent takes against a capacity of L
 * admit exactly L.
 */

/** One minute, the window every per-minute limit refills over. */
export const WINDOW_MS = 60_000;

export interface Bucket {
  /** Units available at `updatedAt` (may be fractional while refilling). */
  level: number;
  /** Unix milliseconds. */
  updatedAt: number;
}

/** A full bucket: a new account starts with its whole allowance. */
export function fullBucket(capacity: number, now: number): Bucket {
  return { level: capacity, updatedAt: now };
}

/** The bucket as of `now`. Time going backwards never drains it. */
export function refill(bucket: Bucket, capacity: number, now: number): Bucket {
  const elapsed = Math.max(0, now - bucket.updatedAt);
  const level = Math.min(capacity, bucket.level + (elapsed * capacity) / WINDOW_MS);
  return { level, updatedAt: Math.max(now, bucket.updatedAt) };
}

/** Milliseconds until `amount` units are available (0 if they are now; Infinity if they never can be). */
export function msUntil(bucket: Bucket, capacity: number, amount: number): number {
  if (amount > capacity) return Infinity;
  const missing = amount - bucket.level;
  return missing <= 0 ? 0 : Math.ceil((missing * WINDOW_MS) / capacity);
}

/** Milliseconds until the bucket is full again (OpenAI's `x-ratelimit-reset-*`). */
export function msUntilFull(bucket: Bucket, capacity: number): number {
  return msUntil(bucket, capacity, capacity);
}

/**
 * OpenAI's duration format for reset headers: `1s`, `6m0s`, `1h2m3s`, `250ms`.
 */
export function formatResetDuration(ms: number): string {
  if (ms <= 0) return "0s";
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
