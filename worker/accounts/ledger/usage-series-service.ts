/**
 * @module accounts/ledger/usage-series-service
 * The dashboard's usage series: every account's (the operator's overview) or
 * one account's (the operator's account page, and a key holder's own view).
 * Parses the query into buckets aligned to the viewer's zone, rolls the
 * account's pending ledger into D1 first (so a request that just ended is
 * drawn), reads D1 in one snapshot and shapes the columns. The overview reads
 * D1 as it is: every account's roll-up runs within seconds of a request's end.
 */
import { bucketStarts, isTimeZone, nextBucketStart } from "../../../shared/time-buckets";
import {
  MAX_SERIES_BUCKETS,
  type AccountUsageSeries,
  type OverviewUsageSeries,
  type UsageSeriesQuery,
} from "../../../shared/usage-series";
import { ApiError } from "../../core/errors";
import type { Env } from "../../env";
import { requireAccountRow } from "../accounts-db";
import { flushAccount, parseRange } from "./usage-report-service";
import { assembleSeries, type SeriesFrame } from "./usage-series";
import { accountSeriesRows, overviewSeriesRows } from "./usage-series-db";

type SeriesEnv = Pick<Env, "DB" | "ACCOUNTS">;

/** The range without `from`: the day before `to`. */
const DEFAULT_SPAN_MS = 24 * 3_600_000;

/** The buckets a query asks for at `now`: defaults filled in, the zone checked, at most MAX_SERIES_BUCKETS. */
export function seriesFrame(query: UsageSeriesQuery, now: number): SeriesFrame {
  const bucket = query.bucket ?? "hour";
  const tz = query.tz ?? "UTC";
  if (!isTimeZone(tz)) {
    throw new ApiError("invalid_value", `Invalid value for 'tz': ${JSON.stringify(tz)} is not an IANA time zone such as Europe/Paris.`, { param: "tz" });
  }
  const range = parseRange(query);
  const to = range.to ?? now;
  const from = range.from ?? to - DEFAULT_SPAN_MS;
  if (to <= from) throw new ApiError("invalid_value", "Invalid value for 'from': it must be earlier than 'to' (now by default).", { param: "from" });
  const starts = bucketStarts(from, to, bucket, tz, MAX_SERIES_BUCKETS);
  if (starts === null) {
    throw new ApiError(
      "invalid_value",
      `Invalid value for 'bucket': the range holds more than ${MAX_SERIES_BUCKETS} buckets of a ${bucket}; choose a wider bucket or a shorter range.`,
      { param: "bucket" },
    );
  }
  return { bucket, tz, starts, end: nextBucketStart(starts[starts.length - 1]!, bucket, tz) };
}

/** `GET /admin/v1/usage/series`: every account together, with the accounts that used the most. */
export async function overviewUsageSeries(env: SeriesEnv, query: UsageSeriesQuery, now = Date.now()): Promise<OverviewUsageSeries> {
  const frame = seriesFrame(query, now);
  const rows = await overviewSeriesRows(env.DB, frame.starts, frame.end);
  return { ...assembleSeries(frame, rows.counts, rows.percentiles), top_accounts: rows.top };
}

/**
 * `GET /admin/v1/accounts/{id}/usage/series` and `GET /v1/usage/series`: one
 * account, with the end users that used the most. An unknown account is a 404.
 */
export async function accountUsageSeries(env: SeriesEnv, accountId: string, query: UsageSeriesQuery, now = Date.now()): Promise<AccountUsageSeries> {
  const frame = seriesFrame(query, now);
  const account = await requireAccountRow(env.DB, accountId);
  await flushAccount(env, accountId);
  const rows = await accountSeriesRows(env.DB, accountId, frame.starts, frame.end);
  return { ...assembleSeries(frame, rows.counts, rows.percentiles), account: { id: account.id, name: account.name }, top_end_users: rows.top };
}
