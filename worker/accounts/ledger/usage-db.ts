/**
 * @module usage-db
 * The usage ledger in D1 (migrations/0002, 0005 end users, 0006 endpoints): written only by the account
 * objects' roll-ups, read only by the usage APIs. Writing is idempotent:
 * records are keyed by request id, and daily totals are recomputed from them.
 */
import type { UsageRecord, UsageTotals } from "../../../shared/usage";

/** Most records in one roll-up statement (about 200 bytes of JSON each: far below D1's 2 MB value limit). */
export const ROLLUP_BATCH_SIZE = 500;

const DAY_MS = 86_400_000;

export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Unix milliseconds of a UTC day's midnight (`YYYY-MM-DD`). */
export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/**
 * Inserts the records (skipping any already there) in one statement: the
 * records travel as one JSON parameter that `json_each` turns back into rows
 * (a statement per record costs D1 several times more). The daily totals
 * follow from a trigger (migrations/0003) that adds each record really
 * inserted, so writing the same records twice, or two overlapping batches at
 * once, leaves the same rows and totals.
 */
export async function writeUsageRecords(db: D1Database, records: readonly UsageRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((r) => [
    r.request_id, r.account_id, r.key_id, r.model, r.backend, r.mode, r.prompt_tokens, r.completion_tokens,
    r.cached ? 1 : 0, r.status, r.ttft_ms, r.duration_ms, r.cost_micro_usd, r.created_at, dayOf(r.created_at), r.end_user ?? null, r.endpoint ?? null,
  ]);
  // `WHERE true` tells SQLite's parser the ON CONFLICT clause belongs to the INSERT, not the SELECT's join.
  await db
    .prepare(
      `INSERT INTO usage_records (request_id, account_id, key_id, model, backend, mode, prompt_tokens, completion_tokens,
         cached, status, ttft_ms, duration_ms, cost_micro_usd, created_at, day, end_user, endpoint)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7,
         value ->> 8, value ->> 9, value ->> 10, value ->> 11, value ->> 12, value ->> 13, value ->> 14, value ->> 15, value ->> 16
       FROM json_each(?) WHERE true ON CONFLICT(request_id) DO NOTHING`,
    )
    .bind(JSON.stringify(rows))
    .run();
}

export interface UsageRange {
  /** Unix milliseconds, inclusive. */
  from?: number;
  /** Unix milliseconds, exclusive. */
  to?: number;
  /** Only this end user's records (migrations/0005). */
  endUser?: string;
}

/** Where a page starts: after the record with this `created_at` and `request_id` (the order's last one). */
export interface UsageCursor {
  createdAt: number;
  requestId: string;
}

type RecordRow = Omit<UsageRecord, "cached"> & { cached: number };

function rangeClause(range: UsageRange): { sql: string; args: (number | string)[] } {
  const parts: string[] = [];
  const args: (number | string)[] = [];
  if (range.endUser !== undefined) {
    parts.push("end_user = ?");
    args.push(range.endUser);
  }
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

/** A page of records, newest first (`created_at`, then `request_id`, both descending), after `page.after`. */
export async function pageUsageRecords(
  db: D1Database,
  accountId: string,
  range: UsageRange,
  page: { limit: number; after?: UsageCursor },
): Promise<{ records: UsageRecord[]; hasMore: boolean }> {
  const where = rangeClause(range);
  const cursor = page.after ? " AND (created_at < ? OR (created_at = ? AND request_id < ?))" : "";
  const cursorArgs = page.after ? [page.after.createdAt, page.after.createdAt, page.after.requestId] : [];
  // One extra row tells whether another page exists.
  const { results } = await db
    .prepare(
      `SELECT request_id, account_id, key_id, end_user, endpoint, model, backend, mode, prompt_tokens, completion_tokens, cached, status,
         ttft_ms, duration_ms, cost_micro_usd, created_at
       FROM usage_records WHERE account_id = ?${where.sql}${cursor}
       ORDER BY created_at DESC, request_id DESC LIMIT ?`,
    )
    .bind(accountId, ...where.args, ...cursorArgs, page.limit + 1)
    .all<RecordRow>();
  const records = results.slice(0, page.limit).map((r) => ({ ...r, cached: r.cached === 1 }));
  return { records, hasMore: results.length > page.limit };
}

const TOTALS_COLUMNS = `COUNT(*) AS requests, COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
  COALESCE(SUM(completion_tokens), 0) AS completion_tokens, COALESCE(SUM(cost_micro_usd), 0) AS cost_micro_usd`;
const DAILY_TOTALS_COLUMNS = `COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
  COALESCE(SUM(completion_tokens), 0) AS completion_tokens, COALESCE(SUM(cost_micro_usd), 0) AS cost_micro_usd`;

/**
 * Totals over a range. Whole UTC days inside it are read from usage_daily (a
 * row per key, model and day), so a month costs a few hundred rows, not every
 * record; only the partial days at the edges are summed record by record. The
 * statements run as one batch: one transaction, one consistent snapshot.
 */
export async function usageTotals(db: D1Database, accountId: string, range: UsageRange): Promise<UsageTotals> {
  const records = (r: UsageRange) => {
    const where = rangeClause(r);
    return db.prepare(`SELECT ${TOTALS_COLUMNS} FROM usage_records WHERE account_id = ?${where.sql}`).bind(accountId, ...where.args);
  };
  const wholeFrom = range.from === undefined ? undefined : Math.ceil(range.from / DAY_MS) * DAY_MS;
  const wholeTo = range.to === undefined ? undefined : Math.floor(range.to / DAY_MS) * DAY_MS;
  let statements: D1PreparedStatement[];
  // usage_daily has no end users: one end user's totals are summed from its records (indexed by end user).
  if (range.endUser !== undefined || (wholeFrom !== undefined && wholeTo !== undefined && wholeFrom >= wholeTo)) {
    statements = [records(range)];
  } else {
    const days: string[] = [];
    const args: string[] = [];
    if (wholeFrom !== undefined) {
      days.push(" AND day >= ?");
      args.push(dayOf(wholeFrom));
    }
    if (wholeTo !== undefined) {
      days.push(" AND day < ?");
      args.push(dayOf(wholeTo));
    }
    statements = [db.prepare(`SELECT ${DAILY_TOTALS_COLUMNS} FROM usage_daily WHERE account_id = ?${days.join("")}`).bind(accountId, ...args)];
    if (range.from !== undefined && wholeFrom! > range.from) statements.push(records({ from: range.from, to: wholeFrom }));
    if (range.to !== undefined && wholeTo! < range.to) statements.push(records({ from: wholeTo, to: range.to }));
  }
  const results = await db.batch<UsageTotals>(statements);
  const totals: UsageTotals = { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_micro_usd: 0 };
  for (const result of results) {
    const row = result.results[0];
    if (!row) continue;
    totals.requests += row.requests;
    totals.prompt_tokens += row.prompt_tokens;
    totals.completion_tokens += row.completion_tokens;
    totals.cost_micro_usd += row.cost_micro_usd;
  }
  return totals;
}

export interface DailyUsage extends UsageTotals {
  day: string;
  model: string;
  cached_requests: number;
}

/** Totals by day and model for one account (all its keys), oldest day first; both days inclusive. */
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
