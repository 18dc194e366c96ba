/**
 * @module refusals
 * The refusal counters' wire format: how many requests of an account were
 * refused, by HTTP status and error code, over a range
 * (`GET /admin/v1/accounts/{id}/refusals`).
 */
import * as z from "zod";

/** Counters are kept per minute: a range's ends are rounded down to the minute. */
export const REFUSAL_BUCKET_MS = 60_000;

export const RefusalCountSchema = z
  .object({
    status: z.number().int().describe("The HTTP status the client got (400, 401, 403, 404, 409, 413, 429, ...)"),
    code: z.string().describe("The error's `code` (`rate_limit_exceeded`, `insufficient_quota`, `invalid_api_key`, `unknown_parameter`, ...)"),
    count: z.number().int().describe("Refused requests with this status and code in the range"),
  });

export const RefusalCountListSchema = z.object({ data: z.array(RefusalCountSchema) });

export type RefusalCount = z.infer<typeof RefusalCountSchema>;

const instant = z
  .string()
  .max(40)
  .describe("ISO 8601 date or date-time (no offset means UTC), or Unix seconds; rounded down to the minute.");

export const RefusalQuerySchema = z.strictObject({
  from: instant.optional().describe("Start of the range, inclusive (default: 24 hours before `to`). " + instant.description),
  to: instant.optional().describe("End of the range, exclusive (default: now). " + instant.description),
});

/** The range when `from` is not given: the last day. */
export const DEFAULT_REFUSAL_RANGE_MS = 24 * 3600 * 1000;
