/**
 * @module usage
 * The usage ledger's record and prices. One record per admitted request,
 * written by the account's Durable Object, rolled up into D1, and shown by the
 * usage APIs. Money is integer micro-dollars (1e-6 USD) so sums are exact.
 */
import { z } from "zod";

export const USAGE_STATUSES = ["ok", "client_disconnected", "backend_error", "timeout"] as const;
export type UsageStatus = (typeof USAGE_STATUSES)[number];

export const UsageRecordSchema = z
  .object({
    request_id: z.string().describe("The x-request-id the client saw"),
    account_id: z.string(),
    key_id: z.string(),
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
