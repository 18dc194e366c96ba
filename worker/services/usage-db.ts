/**
 * @module usage-db
 * The usage ledger in D1 (migrations/0002): written only by the account
 * objects' roll-up alarms, read only by the usage APIs. Writing is idempotent:
 * records are keyed by request id, and daily totals are recomputed from them.
 */
import type { UsageRecord } from "../../shared/usage";

/** Most records in one D1 batch (each adds a statement; affected days add one each). */
export const ROLLUP_BATCH_SIZE = 100;

export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Inserts the records (skipping any already there) and refreshes the affected daily totals, atomically. */
export async function writeUsageRecords(db: D1Database, records: readonly UsageRecord[]): Promise<void> {
  if (records.length === 0) return;
  const insert = db.prepare(
    `INSERT INTO usage_records (request_id, account_id, key_id, model, backend, mode, prompt_tokens, completion_tokens,
       cached, status, ttft_ms, duration_ms, cost_micro_usd, created_at, day)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(request_id) DO NOTHING`,
  );
  const refresh = db.prepare(
    `INSERT OR REPLACE INTO usage_daily (account_id, key_id, model, day, requests, prompt_tokens, completion_tokens, cached_requests, cost_micro_usd)
     SELECT account_id, key_id, model, day, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(cached), SUM(cost_micro_usd)
     FROM usage_records WHERE account_id = ? AND key_id = ? AND model = ? AND day = ?
     GROUP BY account_id, key_id, model, day`,
  );
  const groups = new Map<string, [string, string, string, string]>();
  const statements = records.map((r) => {
    const day = dayOf(r.created_at);
    groups.set(`${r.account_id}\u0000${r.key_id}\u0000${r.model}\u0000${day}`, [r.account_id, r.key_id, r.model, day]);
    return insert.bind(
      r.request_id, r.account_id, r.key_id, r.model, r.backend, r.mode, r.prompt_tokens, r.completion_tokens,
      r.cached ? 1 : 0, r.status, r.ttft_ms, r.duration_ms, r.cost_micro_usd, r.created_at, day,
    );
  });
  for (const group of groups.values()) statements.push(refresh.bind(...group));
  await db.batch(statements);
}

export interface UsageRange {
  /** Unix milliseconds, inclusive. */
  from?: number;
  /** Unix milliseconds, exclusive. */
  to?: number;
}

type RecordRow = Omit<UsageRecord, "cached"> & { cached: number };

function rangeClause(range: UsageRange): { sql: string; args: number[] } {
  const parts: string[] = [];
  const args: number[] = [];
  if (range.from !== undefined) {
    parts.push("created_at >= ?");
    args.push(range.from);
  }
  if (range.to !== undefined) {
    parts.push("created_at < ?");
    args.push(range.to);
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(""), args };
}

/** A page of records, newest first; the cursor is `<created_at>.<request_id>` of the last one. */
export async function pageUsageRecords(
  db: D1Database,
  accountId: string,
  range: UsageRange,
  page: { limit: number; after?: { createdAt: number; requestId: string } },
): Promise<{ records: UsageRecord[]; hasMore: boolean }> {
  const where = rangeClause(range);
  const cursor = page.after ? " AND (created_at < ? OR (created_at = ? AND request_id < ?))" : "";
  const cursorArgs = page.after ? [page.after.createdAt, page.after.createdAt, page.after.requestId] : [];
  const { results } = await db
    .prepare(
      `SELECT request_id, account_id, key_id, model, backend, mode, prompt_tokens, completion_tokens, cached, status,
         ttft_ms, duration_ms, cost_micro_usd, created_at
       FROM usage_records WHERE account_id = ?${where.sql}${cursor}
       ORDER BY created_at DESC, request_id DESC LIMIT ?`,
    )
    .bind(accountId, ...where.args, ...cursorArgs, page.limit + 1)
    .all<RecordRow>();
  const records = results.slice(0, page.limit).map((r) => ({ ...r, cached: r.cached === 1 }));
  return { records, hasMore: results.length > page.limit };
}

export interface UsageTotals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_micro_usd: number;
}

export async function usageTotals(db: D1Database, accountId: string, range: UsageRange): Promise<UsageTotals> {
  const where = rangeClause(range);
  const row = await db
    .prepare(
      `SELECT COUNT(*) AS requests, COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
         COALESCE(SUM(completion_tokens), 0) AS completion_tokens, COALESCE(SUM(cost_micro_usd), 0) AS cost_micro_usd
       FROM usage_records WHERE account_id = ?${where.sql}`,
    )
    .bind(accountId, ...where.args)
    .first<UsageTotals>();
  return row ?? { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_micro_usd: 0 };
}

export interface DailyUsage extends UsageTotals {
  day: string;
  model: string;
  cached_requests: number;
}

/** Totals by day and model for one account (all its keys), oldest day first. */
export async function dailyUsage(db: D1Database, accountId: string, fromDay?: string, toDay?: string): Promise<DailyUsage[]> {
  const { results } = await db
    .prepare(
      `SELECT day, model, SUM(requests) AS requests, SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
         SUM(cached_requests) AS cached_requests, SUM(cost_micro_usd) AS cost_micro_usd
       FROM usage_daily WHERE account_id = ? AND day >= ? AND day <= ?
       GROUP BY day, model ORDER BY day, model`,
    )
    .bind(accountId, fromDay ?? "0000-00-00", toDay ?? "9999-12-31")
    .all<DailyUsage>();
  return results;
}
