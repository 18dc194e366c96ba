/**
 * @module usage
 * The usage ledger's record and prices. One record per admitted request,
 * written by the account's Durable Object, rolled up into D1, and shown by the
 * usage APIs. Money is integer micro-dollars (1e-6 USD) so sums are exact.
 */
import * as z from "zod";

export const USAGE_STATUSES = ["ok", "client_disconnected", "backend_error", "timeout"] as const;
export type UsageStatus = (typeof USAGE_STATUSES)[number];

/** The endpoint a record is for (migrations/0006); null on records written before it, and on reservations that expired unsettled. */
export const USAGE_ENDPOINTS = ["chat.completions", "completions", "responses", "answers.check"] as const;
export type UsageEndpoint = (typeof USAGE_ENDPOINTS)[number];

export const UsageRecordSchema = z
  .object({
    request_id: z.string().describe("The x-request-id the client saw"),
    account_id: z.string(),
    key_id: z.string(),
    end_user: z
      .string()
      .nullable()
      .optional()
      .describe("The request's end user (`safety_identifier`, else a `user` of at most 64 characters, or the client token's); null when none"),
    endpoint: z
      .enum(USAGE_ENDPOINTS)
      .nullable()
      .optional()
      .describe("The endpoint the request called (`chat.completions`, `completions`, `responses`, `answers.check`); null when unknown"),
    model: z.string().describe("Public model id"),
    backend: z.string(),
    mode: z.enum(["live", "test"]).describe("test-mode requests are never billed (cost 0)"),
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int().describe("Tokens the client was given"),
    cached: z.boolean(),
    status: z.enum(USAGE_STATUSES),
    ttft_ms: z.number().int().nullable().describe("Time to the first token, from admission"),
    duration_ms: z.number().int(),
    cost_micro_usd: z.number().int(),
    created_at: z.number().int().describe("Unix milliseconds when the request was admitted"),
  })
  .meta({ id: "UsageRecord" });

export type UsageRecord = z.infer<typeof UsageRecordSchema>;

/** Prices per million tokens, in micro-dollars (so 500_000 = $0.50 per 1M tokens). */
export interface ModelPrice {
  promptPerMillion: number;
  completionPerMillion: number;
  /** A cache hit (the caching issue): no GPU time spent. */
  cachedPerMillion: number;
}

/** Per-model prices. Edit here; every record stores the cost computed when it was written. */
export const PRICES: Readonly<Record<string, ModelPrice>> = {
  limo: { promptPerMillion: 500_000, completionPerMillion: 2_000_000, cachedPerMillion: 100_000 },
  "limo-v2": { promptPerMillion: 500_000, completionPerMillion: 2_000_000, cachedPerMillion: 100_000 },
};

/** The cost of one request in micro-dollars, rounded up: never under-billed by rounding. */
export function costMicroUsd(model: string, mode: "live" | "test", prompt: number, completion: number, cached: boolean): number {
  const price = PRICES[model];
  if (mode === "test" || !price) return 0;
  const total = cached
    ? (prompt + completion) * price.cachedPerMillion
    : prompt * price.promptPerMillion + completion * price.completionPerMillion;
  return Math.ceil(total / 1_000_000);
}

/** Micro-dollars as a decimal string of dollars (`1234` → `"0.001234"`), exact: no floating point. */
export function formatMicroUsd(micro: number): string {
  const sign = micro < 0 ? "-" : "";
  const digits = String(Math.abs(Math.trunc(micro))).padStart(7, "0");
  return `${sign}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}

// ---- The usage APIs' wire format (worker/routes/admin/usage.ts, worker/routes/usage-routes.ts) ----

/** Page sizes of `GET /admin/v1/accounts/{id}/usage`. */
export const DEFAULT_USAGE_PAGE_LIMIT = 100;
export const MAX_USAGE_PAGE_LIMIT = 1000;
/** Most rows one CSV export holds; a larger range is refused with a 400 (narrow `from`/`to`). */
export const MAX_USAGE_CSV_ROWS = 100_000;
/** Longest range `GET /v1/usage` answers, in days: a year, leap day included. */
export const MAX_USAGE_SUMMARY_DAYS = 366;

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** A UTC calendar day, `YYYY-MM-DD`, that exists (no 2025-02-30). */
export function isCalendarDay(text: string): boolean {
  if (!DAY_PATTERN.test(text)) return false;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === text;
}

const instant = z
  .string()
  .max(40)
  .describe(
    "ISO 8601 date (`2025-11-01`, UTC midnight) or date-time (`2025-11-01T09:30:00Z`, `…+02:00`; no offset means UTC), or Unix seconds (`1761955200`).",
  );

export const AccountUsageQuerySchema = z.strictObject({
  from: instant.optional().describe("Start of the range, inclusive. " + instant.description),
  to: instant.optional().describe("End of the range, exclusive (default: now). " + instant.description),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_USAGE_PAGE_LIMIT)
    .optional()
    .describe(`Records per page, 1 to ${MAX_USAGE_PAGE_LIMIT} (default ${DEFAULT_USAGE_PAGE_LIMIT}). Ignored with format=csv.`),
  after: z.string().min(1).max(256).optional().describe("The previous page's `next_cursor`. Opaque."),
  end_user: z.string().min(1).max(64).optional().describe("Only the records of this end user"),
  format: z.enum(["json", "csv"]).optional().describe("`csv`: every record of the range as one CSV file (for invoicing), no paging."),
});
export type AccountUsageQuery = z.infer<typeof AccountUsageQuerySchema>;

export const UsageTotalsSchema = z
  .object({
    requests: z.number().int(),
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    cost_micro_usd: z.number().int().describe("Micro-dollars (1e-6 USD); test-mode requests cost 0"),
  })
  .meta({ id: "UsageTotals", description: "Sums over the whole range asked for, not just one page" });
export type UsageTotals = z.infer<typeof UsageTotalsSchema>;

export const UsageRecordListSchema = z
  .object({
    object: z.literal("list"),
    data: z.array(UsageRecordSchema).describe("Newest first (by `created_at`, then `request_id`)"),
    has_more: z.boolean(),
    next_cursor: z.string().optional().describe("Pass as `after` to get the next page"),
    totals: UsageTotalsSchema,
  })
  .meta({ id: "UsageRecordList" });
export type UsageRecordList = z.infer<typeof UsageRecordListSchema>;

export const UsageSummaryQuerySchema = z.strictObject({
  from: z
    .string()
    .regex(DAY_PATTERN, "must be a date YYYY-MM-DD")
    .refine(isCalendarDay, "must be a date that exists")
    .optional()
    .describe("First UTC day, inclusive (default: the first day of `to`'s month)"),
  to: z
    .string()
    .regex(DAY_PATTERN, "must be a date YYYY-MM-DD")
    .refine(isCalendarDay, "must be a date that exists")
    .optional()
    .describe("Last UTC day, inclusive (default: the last day of the current month)"),
});
export type UsageSummaryQuery = z.infer<typeof UsageSummaryQuerySchema>;

export const DailyModelUsageSchema = z
  .object({
    day: z.string().describe("UTC day, YYYY-MM-DD"),
    model: z.string(),
    requests: z.number().int(),
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    cached_requests: z.number().int(),
    cost_micro_usd: z.number().int(),
  })
  .meta({ id: "DailyModelUsage" });
export type DailyModelUsage = z.infer<typeof DailyModelUsageSchema>;

export const UsageSummarySchema = z
  .object({
    object: z.literal("usage"),
    account_id: z.string(),
    from: z.string().describe("First day of the range (inclusive)"),
    to: z.string().describe("Last day of the range (inclusive)"),
    data: z.array(DailyModelUsageSchema).describe("One entry per day and model with any requests, oldest day first; days without requests are absent"),
    totals: UsageTotalsSchema.extend({ cached_requests: z.number().int() }),
  })
  .meta({ id: "UsageSummary" });
export type UsageSummary = z.infer<typeof UsageSummarySchema>;
