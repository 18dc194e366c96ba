/**
 * @module dashboard/series-helpers
 * What the usage series tests share: the series calls, and the series the
 * ledger's records should give, computed here from the records themselves
 * (nearest-rank percentiles, buckets from shared/time-buckets) so the D1
 * queries are checked against an independent sum.
 */
import { expect } from "vitest";
import { bucketStarts, nextBucketStart } from "../../shared/time-buckets";
import { USAGE_STATUSES, type UsageRecord } from "../../shared/usage";
import type { AccountUsageSeries, OverviewUsageSeries, Percentiles, SeriesBucket } from "../../shared/usage-series";
import type { AdminApi } from "../helpers/admin";

export type SeriesQuery = Record<string, string | number>;

function qs(query: SeriesQuery): string {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  return params.size > 0 ? `?${params}` : "";
}

export async function adminAccountSeries(a: AdminApi, accountId: string, query: SeriesQuery): Promise<AccountUsageSeries> {
  const res = await a.admin("GET", `/accounts/${accountId}/usage/series${qs(query)}`);
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as AccountUsageSeries;
}

export async function overviewSeries(a: AdminApi, query: SeriesQuery): Promise<OverviewUsageSeries> {
  const res = await a.admin("GET", `/usage/series${qs(query)}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as OverviewUsageSeries;
}

export async function keySeries(a: AdminApi, key: string, query: SeriesQuery): Promise<AccountUsageSeries> {
  const res = await a.withKey(key, `/v1/usage/series${qs(query)}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as AccountUsageSeries;
}

/** Nearest rank: the smallest value with p% of the values at or below it. */
export function nearestRank(values: number[]): Percentiles {
  const sorted = [...values].sort((x, y) => x - y);
  const at = (p: number) => (sorted.length === 0 ? null : sorted[Math.ceil((p * sorted.length) / 100) - 1]!);
  return { p50: at(50), p95: at(95), p99: at(99) };
}

/** The columns a series of `records` over `[from, to)` in `bucket`s of `tz` must hold. */
export function expectedSeries(records: readonly UsageRecord[], from: number, to: number, bucket: SeriesBucket, tz: string) {
  const t = bucketStarts(from, to, bucket, tz, 1000)!;
  const end = nextBucketStart(t[t.length - 1]!, bucket, tz);
  const inBucket = (i: number) => records.filter((r) => r.created_at >= t[i]! && r.created_at < (t[i + 1] ?? end));
  const models = [...new Set(records.map((r) => r.model))];
  const perModel = (pick: (r: UsageRecord) => number) =>
    Object.fromEntries(models.map((m) => [m, t.map((_, i) => inBucket(i).filter((r) => r.model === m).reduce((s, r) => s + pick(r), 0))]));
  const percentiles = (pick: (rs: UsageRecord[]) => number[]) => {
    const each = t.map((_, i) => nearestRank(pick(inBucket(i))));
    return { p50: each.map((p) => p.p50), p95: each.map((p) => p.p95), p99: each.map((p) => p.p99) };
  };
  const ttfts = (rs: readonly UsageRecord[]) => rs.flatMap((r) => (r.ttft_ms === null ? [] : [r.ttft_ms]));
  const durations = (rs: readonly UsageRecord[]) => rs.filter((r) => r.status === "ok").map((r) => r.duration_ms);
  const all = records.filter((r) => r.created_at >= t[0]! && r.created_at < end);
  return {
    t,
    to: end,
    requests: Object.fromEntries(USAGE_STATUSES.map((s) => [s, t.map((_, i) => inBucket(i).filter((r) => r.status === s).length)])),
    prompt_tokens: perModel((r) => r.prompt_tokens),
    completion_tokens: perModel((r) => r.completion_tokens),
    cost_micro_usd: perModel((r) => r.cost_micro_usd),
    ttft_ms: percentiles(ttfts),
    duration_ms: percentiles(durations),
    totals: { ttft_ms: nearestRank(ttfts(all)), duration_ms: nearestRank(durations(all)), requests: all.length },
  };
}
