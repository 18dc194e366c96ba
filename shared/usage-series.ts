/**
 * @module usage-series
 * The wire format of the usage time series behind the operators' dashboard
 * (`/dashboard`): `GET /admin/v1/usage/series` (every account),
 * `GET /admin/v1/accounts/{id}/usage/series` (one account) and
 * `GET /v1/usage/series` (the API key's own account). Series are columns
 * aligned to the bucket starts in `t`, the layout uPlot draws, so the page
 * plots the answer as it is and a test can compare each point with the
 * usage APIs. Money is integer micro-dollars; times are Unix milliseconds.
 */
import * as z from "zod";
import { USAGE_STATUSES, UsageTotalsSchema } from "./usage";

/** Bucket widths a series may use: five minutes (the last hour), an hour, a calendar day in `tz`. */
export const SERIES_BUCKETS = ["5min", "hour", "day"] as const;
export type SeriesBucket = (typeof SERIES_BUCKETS)[number];

/** Most buckets one answer holds (30 days of hours is 720): a longer range needs a wider bucket. */
export const MAX_SERIES_BUCKETS = 1_000;
/** Rows of the top accounts and top end users lists. */
export const SERIES_TOP_ROWS = 10;
/** The percentiles every latency figure carries (nearest rank: the smallest value with p% of values at or below it). */
export const SERIES_PERCENTILES = [50, 95, 99] as const;
/** An end user id as the ledger stores it (OpenAI's `user` / `safety_identifier`). */
export const MAX_END_USER_CHARS = 64;

const instant = z
  .string()
  .max(40)
  .describe("ISO 8601 date or date-time (no offset means UTC), or Unix seconds, as in the admin usage API.");

export const UsageSeriesQuerySchema = z.strictObject({
  from: instant
    .optional()
    .describe("Start of the range; moved back to the start of its bucket. Default: 24 hours before `to`."),
  to: instant.optional().describe("End of the range, exclusive: the last bucket is the one that starts before it. Default: now."),
  bucket: z
    .enum(SERIES_BUCKETS)
    .optional()
    .describe(`Bucket width: \`5min\`, \`hour\` (default) or \`day\` (a calendar day in \`tz\`). At most ${MAX_SERIES_BUCKETS} buckets.`),
  tz: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe("IANA time zone the buckets are aligned to (`Europe/Paris`, `Asia/Kolkata`): the viewer's. Default `UTC`."),
});
export type UsageSeriesQuery = z.infer<typeof UsageSeriesQuerySchema>;

const count = z.number().int().nonnegative();
const column = z.array(count);
/** A percentile per bucket: null where the bucket has no value to rank. */
const percentileColumn = z.array(z.number().int().nullable());

export const PercentilesSchema = z
  .object({ p50: z.number().int().nullable(), p95: z.number().int().nullable(), p99: z.number().int().nullable() })
  .meta({ id: "Percentiles", description: "Nearest-rank percentiles in milliseconds; null when there is nothing to rank" });
export type Percentiles = z.infer<typeof PercentilesSchema>;

const percentileSeries = z.object({ p50: percentileColumn, p95: percentileColumn, p99: percentileColumn });

const byStatus = <T extends z.ZodType>(value: T) =>
  z.object(Object.fromEntries(USAGE_STATUSES.map((status) => [status, value])) as Record<(typeof USAGE_STATUSES)[number], T>);

export const ModelUsageSchema = UsageTotalsSchema.extend({ model: z.string() }).meta({ id: "ModelUsage" });
export type ModelUsage = z.infer<typeof ModelUsageSchema>;

export const SeriesTotalsSchema = UsageTotalsSchema.extend({
  cached_requests: count,
  by_status: byStatus(count).describe("Requests by how they ended"),
  error_rate: z.number().min(0).max(1).nullable().describe("Requests that did not end `ok`, as a fraction of all; null without requests"),
  ttft_ms: PercentilesSchema.describe("Time to first token over requests that had one"),
  duration_ms: PercentilesSchema.describe("Duration of requests that ended `ok`"),
}).meta({ id: "SeriesTotals" });
export type SeriesTotals = z.infer<typeof SeriesTotalsSchema>;

export const UsageSeriesSchema = z
  .object({
    object: z.literal("usage.series"),
    bucket: z.enum(SERIES_BUCKETS),
    tz: z.string(),
    from: z.number().int().describe("Start of the first bucket, Unix ms"),
    to: z.number().int().describe("End of the last bucket, Unix ms"),
    t: z.array(z.number().int()).describe("Bucket starts, Unix ms: every column below has one value per bucket"),
    requests: byStatus(column).describe("Requests admitted in each bucket, by how they ended"),
    prompt_tokens: z.record(z.string(), column).describe("Prompt tokens per bucket, by public model id"),
    completion_tokens: z.record(z.string(), column).describe("Completion tokens per bucket, by public model id"),
    cost_micro_usd: z.record(z.string(), column).describe("Cost per bucket in micro-dollars, by model"),
    ttft_ms: percentileSeries.describe("Time to first token per bucket (requests that had one)"),
    duration_ms: percentileSeries.describe("Duration per bucket (requests that ended `ok`)"),
    totals: SeriesTotalsSchema,
    models: z.array(ModelUsageSchema).describe("Totals by model, most tokens first"),
  })
  .meta({ id: "UsageSeries" });
export type UsageSeries = z.infer<typeof UsageSeriesSchema>;

export const TopAccountSchema = UsageTotalsSchema.extend({
  account_id: z.string(),
  name: z.string().nullable().describe("null when the account no longer exists"),
}).meta({ id: "TopAccount" });
export type TopAccount = z.infer<typeof TopAccountSchema>;

export const TopEndUserSchema = UsageTotalsSchema.extend({
  end_user: z.string().describe("The `user` (or `safety_identifier`) the client sent"),
}).meta({ id: "TopEndUser" });
export type TopEndUser = z.infer<typeof TopEndUserSchema>;

export const OverviewUsageSeriesSchema = UsageSeriesSchema.extend({
  top_accounts: z.array(TopAccountSchema).describe(`The ${SERIES_TOP_ROWS} accounts with the most tokens in the range`),
}).meta({ id: "OverviewUsageSeries" });
export type OverviewUsageSeries = z.infer<typeof OverviewUsageSeriesSchema>;

export const AccountUsageSeriesSchema = UsageSeriesSchema.extend({
  account: z.object({ id: z.string(), name: z.string() }),
  top_end_users: z.array(TopEndUserSchema).describe(`The ${SERIES_TOP_ROWS} end users with the most tokens; empty when requests name none`),
}).meta({ id: "AccountUsageSeries" });
export type AccountUsageSeries = z.infer<typeof AccountUsageSeriesSchema>;
