/**
 * @module accounts/ledger/usage-series
 * Turns the ledger's grouped rows (per bucket, status and model) and its
 * ranked percentiles into the dashboard's columns: one value per bucket for
 * every status, model and percentile, zeros where a bucket had nothing and
 * null where there was nothing to rank. Pure, so every shape is unit-tested.
 */
import { USAGE_STATUSES, type UsageStatus } from "../../../shared/usage";
import type { ModelUsage, Percentiles, SeriesBucket, SeriesTotals, UsageSeries } from "../../../shared/usage-series";

/** One row of the counts query: a bucket (its index), a status and a model, with their sums. */
export interface SeriesCountRow {
  i: number;
  status: UsageStatus;
  model: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_micro_usd: number;
  cached_requests: number;
}

/** One row of the percentiles query: a metric over a bucket (`i`), or over the whole range (`i` = -1). */
export interface SeriesPercentileRow {
  metric: "ttft" | "duration";
  i: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** The bucket index the percentiles query gives the whole range. */
export const WHOLE_RANGE = -1;

const NO_PERCENTILES: Percentiles = { p50: null, p95: null, p99: null };

function zeros(n: number): number[] {
  return new Array<number>(n).fill(0);
}

function nulls(n: number): (number | null)[] {
  return new Array<number | null>(n).fill(null);
}

function column(columns: Record<string, number[]>, key: string, n: number): number[] {
  return (columns[key] ??= zeros(n));
}

export interface SeriesFrame {
  bucket: SeriesBucket;
  tz: string;
  /** Bucket starts, Unix ms, oldest first. */
  starts: number[];
  /** End of the last bucket, Unix ms. */
  end: number;
}

/** The series of `frame` from the two queries' rows. */
export function assembleSeries(frame: SeriesFrame, counts: SeriesCountRow[], percentiles: SeriesPercentileRow[]): UsageSeries {
  const n = frame.starts.length;
  const requests = Object.fromEntries(USAGE_STATUSES.map((s) => [s, zeros(n)])) as Record<UsageStatus, number[]>;
  const prompt: Record<string, number[]> = {};
  const completion: Record<string, number[]> = {};
  const cost: Record<string, number[]> = {};
  const byModel = new Map<string, ModelUsage>();
  const totals: SeriesTotals = {
    requests: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_micro_usd: 0,
    cached_requests: 0,
    by_status: Object.fromEntries(USAGE_STATUSES.map((s) => [s, 0])) as Record<UsageStatus, number>,
    error_rate: null,
    ttft_ms: NO_PERCENTILES,
    duration_ms: NO_PERCENTILES,
  };
  for (const row of counts) {
    requests[row.status][row.i]! += row.requests;
    column(prompt, row.model, n)[row.i]! += row.prompt_tokens;
    column(completion, row.model, n)[row.i]! += row.completion_tokens;
    column(cost, row.model, n)[row.i]! += row.cost_micro_usd;
    const model = byModel.get(row.model) ?? { model: row.model, requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_micro_usd: 0 };
    model.requests += row.requests;
    model.prompt_tokens += row.prompt_tokens;
    model.completion_tokens += row.completion_tokens;
    model.cost_micro_usd += row.cost_micro_usd;
    byModel.set(row.model, model);
    totals.requests += row.requests;
    totals.prompt_tokens += row.prompt_tokens;
    totals.completion_tokens += row.completion_tokens;
    totals.cost_micro_usd += row.cost_micro_usd;
    totals.cached_requests += row.cached_requests;
    totals.by_status[row.status] += row.requests;
  }
  totals.error_rate = totals.requests === 0 ? null : (totals.requests - totals.by_status.ok) / totals.requests;

  const ttft = { p50: nulls(n), p95: nulls(n), p99: nulls(n) };
  const duration = { p50: nulls(n), p95: nulls(n), p99: nulls(n) };
  for (const row of percentiles) {
    const p: Percentiles = { p50: row.p50, p95: row.p95, p99: row.p99 };
    if (row.i === WHOLE_RANGE) {
      if (row.metric === "ttft") totals.ttft_ms = p;
      else totals.duration_ms = p;
      continue;
    }
    const target = row.metric === "ttft" ? ttft : duration;
    target.p50[row.i] = row.p50;
    target.p95[row.i] = row.p95;
    target.p99[row.i] = row.p99;
  }
  const tokens = (m: ModelUsage) => m.prompt_tokens + m.completion_tokens;
  return {
    object: "usage.series",
    bucket: frame.bucket,
    tz: frame.tz,
    from: frame.starts[0] ?? frame.end,
    to: frame.end,
    t: frame.starts,
    requests,
    prompt_tokens: prompt,
    completion_tokens: completion,
    cost_micro_usd: cost,
    ttft_ms: ttft,
    duration_ms: duration,
    totals,
    models: [...byModel.values()].sort((a, b) => tokens(b) - tokens(a) || a.model.localeCompare(b.model)),
  };
}
