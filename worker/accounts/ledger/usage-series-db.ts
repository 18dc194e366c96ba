/**
 * @module accounts/ledger/usage-series-db
 * The dashboard's reads of the usage ledger in D1 (migrations/0002): per
 * bucket sums by status and model, nearest-rank percentiles ranked by
 * SQLite's window functions, and the top accounts or end users. Buckets
 * travel as one JSON parameter of `[start, end)` pairs, so any alignment (a
 * viewer's calendar day in their zone) costs one range scan per bucket on
 * the ledger's time indexes, and all reads run as one batch: one snapshot.
 */
import { SERIES_PERCENTILES, SERIES_TOP_ROWS, type TopAccount, type TopEndUser } from "../../../shared/usage-series";
import type { SeriesCountRow, SeriesPercentileRow } from "./usage-series";

/** Whose ledger: one account's, or every account's (the operator's overview). */
export type SeriesScope = { accountId: string } | { accountId: null };

export interface SeriesRows {
  counts: SeriesCountRow[];
  percentiles: SeriesPercentileRow[];
}

/**
 * `b` holds the buckets; CROSS JOIN keeps it the outer loop, so each bucket is
 * one range scan of an index (by account and time, or by time alone) instead
 * of a scan of the ledger probing every bucket.
 */
function bucketsJoin(scope: SeriesScope): string {
  const account = scope.accountId === null ? "" : "r.account_id = ?2 AND ";
  return `b CROSS JOIN usage_records r ON ${account}r.created_at >= b.lo AND r.created_at < b.hi`;
}

const BUCKETS_CTE = "b(i, lo, hi) AS (SELECT CAST(key AS INTEGER), value ->> 0, value ->> 1 FROM json_each(?1))";

/** Nearest rank: the smallest value with p% of the values at or below it, rank ⌈p·n/100⌉ counted from 1 (integer arithmetic). */
const PERCENTILE_COLUMNS = SERIES_PERCENTILES.map((p) => `MAX(CASE WHEN rn = (${p} * n + 99) / 100 THEN x END) AS p${p}`).join(", ");

function countsStatement(db: D1Database, scope: SeriesScope, buckets: string): D1PreparedStatement {
  const sql = `WITH ${BUCKETS_CTE}
    SELECT b.i AS i, r.status AS status, r.model AS model, COUNT(*) AS requests,
      SUM(r.prompt_tokens) AS prompt_tokens, SUM(r.completion_tokens) AS completion_tokens,
      SUM(r.cost_micro_usd) AS cost_micro_usd, SUM(r.cached) AS cached_requests
    FROM ${bucketsJoin(scope)}
    GROUP BY b.i, r.status, r.model`;
  return bind(db.prepare(sql), scope, buckets);
}

/**
 * Time to first token over requests that had one, duration over requests that
 * ended `ok`; per bucket and over the whole range (`i` = -1), ranked once.
 */
function percentilesStatement(db: D1Database, scope: SeriesScope, buckets: string): D1PreparedStatement {
  const sql = `WITH ${BUCKETS_CTE},
    v(metric, i, x) AS MATERIALIZED (
      SELECT 'ttft', b.i, r.ttft_ms FROM ${bucketsJoin(scope)} WHERE r.ttft_ms IS NOT NULL
      UNION ALL
      SELECT 'duration', b.i, r.duration_ms FROM ${bucketsJoin(scope)} WHERE r.status = 'ok'),
    w(metric, i, x) AS (SELECT metric, i, x FROM v UNION ALL SELECT metric, -1, x FROM v),
    ranked AS (
      SELECT metric, i, x, ROW_NUMBER() OVER (PARTITION BY metric, i ORDER BY x) AS rn, COUNT(*) OVER (PARTITION BY metric, i) AS n FROM w)
    SELECT metric, i, ${PERCENTILE_COLUMNS} FROM ranked GROUP BY metric, i`;
  return bind(db.prepare(sql), scope, buckets);
}

function bind(statement: D1PreparedStatement, scope: SeriesScope, buckets: string): D1PreparedStatement {
  return scope.accountId === null ? statement.bind(buckets) : statement.bind(buckets, scope.accountId);
}

const TOP_SUMS = `COUNT(*) AS requests, SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
  SUM(cost_micro_usd) AS cost_micro_usd`;

/** The accounts with the most tokens in `[from, to)`, with their names (null for an account since deleted). */
function topAccountsStatement(db: D1Database, from: number, to: number): D1PreparedStatement {
  return db
    .prepare(
      `SELECT t.account_id AS account_id, a.name AS name, t.requests, t.prompt_tokens, t.completion_tokens, t.cost_micro_usd
       FROM (SELECT account_id, ${TOP_SUMS} FROM usage_records WHERE created_at >= ?1 AND created_at < ?2 GROUP BY account_id) t
       LEFT JOIN accounts a ON a.id = t.account_id
       ORDER BY t.prompt_tokens + t.completion_tokens DESC, t.account_id LIMIT ?3`,
    )
    .bind(from, to, SERIES_TOP_ROWS);
}

/** The end users (the `user` a request named) with the most tokens of one account in `[from, to)`. */
function topEndUsersStatement(db: D1Database, accountId: string, from: number, to: number): D1PreparedStatement {
  return db
    .prepare(
      `SELECT end_user, ${TOP_SUMS} FROM usage_records
       WHERE account_id = ?1 AND created_at >= ?2 AND created_at < ?3 AND end_user IS NOT NULL
       GROUP BY end_user ORDER BY SUM(prompt_tokens + completion_tokens) DESC, end_user LIMIT ?4`,
    )
    .bind(accountId, from, to, SERIES_TOP_ROWS);
}

/** Set once `usage_records.end_user` has been seen: a column, once added, stays. */
let endUserColumnSeen = false;

/**
 * Whether the ledger records end users yet (`end_user TEXT NULL`, added by its
 * own migration). Without the column there is no end user to rank: the top
 * list is empty, as for an account whose requests never name one.
 */
async function hasEndUserColumn(db: D1Database): Promise<boolean> {
  if (endUserColumnSeen) return true;
  const row = await db.prepare("SELECT 1 AS present FROM pragma_table_info('usage_records') WHERE name = 'end_user'").first();
  endUserColumnSeen = row !== null;
  return endUserColumnSeen;
}

/** The bucket pairs as the statements' JSON parameter. */
function bucketsParam(starts: number[], end: number): string {
  return JSON.stringify(starts.map((start, i) => [start, starts[i + 1] ?? end]));
}

/** Every account's series rows and top accounts, in one snapshot. */
export async function overviewSeriesRows(db: D1Database, starts: number[], end: number): Promise<SeriesRows & { top: TopAccount[] }> {
  const scope: SeriesScope = { accountId: null };
  const buckets = bucketsParam(starts, end);
  const [counts, percentiles, top] = await db.batch([
    countsStatement(db, scope, buckets),
    percentilesStatement(db, scope, buckets),
    topAccountsStatement(db, starts[0] ?? end, end),
  ]);
  return { counts: counts!.results as SeriesCountRow[], percentiles: percentiles!.results as SeriesPercentileRow[], top: top!.results as TopAccount[] };
}

/** One account's series rows and top end users, in one snapshot. */
export async function accountSeriesRows(db: D1Database, accountId: string, starts: number[], end: number): Promise<SeriesRows & { top: TopEndUser[] }> {
  const scope: SeriesScope = { accountId };
  const buckets = bucketsParam(starts, end);
  const statements = [countsStatement(db, scope, buckets), percentilesStatement(db, scope, buckets)];
  if (await hasEndUserColumn(db)) statements.push(topEndUsersStatement(db, accountId, starts[0] ?? end, end));
  const [counts, percentiles, top] = await db.batch(statements);
  return {
    counts: counts!.results as SeriesCountRow[],
    percentiles: percentiles!.results as SeriesPercentileRow[],
    top: (top?.results ?? []) as TopEndUser[],
  };
}
