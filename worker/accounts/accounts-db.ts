/**
 * @module accounts-db
 * The `accounts` table in D1 (migrations/0001): rows, their API shape, and
 * cursor pages. Only the admin API and the account Durable Object's loader
 * read it; the hot path never does.
 */
import { LIMIT_NAMES, type Account, type AccountStatus } from "../../shared/admin";
import { parseEndUserSettings } from "../../shared/end-users";
import { effectiveEndUserLimits, effectiveLimits, type LimitOverrides } from "../../shared/plans";
import type { AccountState } from "./account-state";
import { ApiError } from "../core/errors";

export interface AccountRow {
  id: string;
  name: string;
  plan: string;
  status: AccountStatus;
  /** JSON object of limit overrides (see shared/plans.ts). */
  limits: string;
  /** JSON of the per-end-user limits and require_end_user (shared/end-users.ts; migrations/0005). */
  end_user_settings: string;
  created_at: number;
  updated_at: number;
}

export { DEFAULT_PLAN } from "../../shared/plans";

/**
 * The account's limit overrides (the column is JSON): an absent limit follows
 * the plan, `null` removes it. Unknown or malformed entries are dropped.
 */
export function parseLimits(text: string): LimitOverrides {
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object") raw = parsed as Record<string, unknown>;
  } catch {
    // A damaged column means "no overrides", never a failed request.
  }
  const limits: LimitOverrides = {};
  for (const name of LIMIT_NAMES) {
    if (!Object.hasOwn(raw, name)) continue;
    const value = raw[name];
    if (value === null) limits[name] = null;
    else if (typeof value === "number" && Number.isInteger(value) && value > 0) limits[name] = value;
  }
  return limits;
}

export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    object: "account",
    name: row.name,
    plan: row.plan,
    status: row.status,
    limits: effectiveLimits(row.plan, parseLimits(row.limits)),
    end_user_limits: effectiveEndUserLimits(row.plan, parseEndUserSettings(row.end_user_settings).limits),
    require_end_user: parseEndUserSettings(row.end_user_settings).requireEndUser,
    created_at: toSeconds(row.created_at),
    updated_at: toSeconds(row.updated_at),
  };
}

export function toAccountState(row: AccountRow): AccountState {
  return { id: row.id, status: row.status, plan: row.plan, limits: parseLimits(row.limits), endUsers: parseEndUserSettings(row.end_user_settings) };
}

export function toSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

export async function insertAccount(db: D1Database, row: AccountRow): Promise<void> {
  await db
    .prepare("INSERT INTO accounts (id, name, plan, status, limits, end_user_settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .bind(row.id, row.name, row.plan, row.status, row.limits, row.end_user_settings, row.created_at, row.updated_at)
    .run();
}

export async function getAccountRow(db: D1Database, id: string): Promise<AccountRow | null> {
  return db.prepare("SELECT * FROM accounts WHERE id = ?").bind(id).first<AccountRow>();
}

/** The row, or the admin API's 404. */
export async function requireAccountRow(db: D1Database, id: string): Promise<AccountRow> {
  const row = await getAccountRow(db, id);
  if (!row) throw new ApiError("not_found", `No account with id '${id}'.`, { param: "id" });
  return row;
}

export async function updateAccountRow(db: D1Database, row: AccountRow): Promise<void> {
  await db
    .prepare("UPDATE accounts SET name = ?, plan = ?, status = ?, limits = ?, end_user_settings = ?, updated_at = ? WHERE id = ?")
    .bind(row.name, row.plan, row.status, row.limits, row.end_user_settings, row.updated_at, row.id)
    .run();
}

export interface Page<Row> {
  rows: Row[];
  hasMore: boolean;
}

/**
 * One page of a table in the admin API's order (newest first, id breaking
 * ties), after the row whose id is `after`. `scope` restricts the rows (the
 * keys of one account); `search` keeps those whose name contains it (any
 * case, as SQLite's LIKE folds ASCII) or whose id starts with it. An unknown
 * cursor is the client's mistake: a 400.
 */
export async function pageRows<Row extends { id: string }>(
  db: D1Database,
  table: "accounts" | "api_keys",
  options: { limit: number; after?: string; scope?: { column: "account_id"; value: string }; search?: string },
): Promise<Page<Row>> {
  const where: string[] = [];
  const binds: unknown[] = [];
  if (options.scope) {
    where.push(`${options.scope.column} = ?`);
    binds.push(options.scope.value);
  }
  if (options.search !== undefined) {
    // The text is matched literally: LIKE's wildcards in it are escaped.
    const literal = options.search.replace(/[\\%_]/g, (ch) => `\\${ch}`);
    where.push("(name LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\')");
    binds.push(`%${literal}%`, `${literal}%`);
  }
  if (options.after !== undefined) {
    const cursor = await db
      .prepare(`SELECT created_at FROM ${table} WHERE id = ?${options.scope ? ` AND ${options.scope.column} = ?` : ""}`)
      .bind(options.after, ...(options.scope ? [options.scope.value] : []))
      .first<{ created_at: number }>();
    if (!cursor) throw new ApiError("invalid_value", "Invalid value for 'after': no such cursor.", { param: "after" });
    where.push("(created_at < ? OR (created_at = ? AND id < ?))");
    binds.push(cursor.created_at, cursor.created_at, options.after);
  }
  const sql = `SELECT * FROM ${table}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC LIMIT ?`;
  // One extra row tells whether another page exists.
  const { results } = await db.prepare(sql).bind(...binds, options.limit + 1).all<Row>();
  return { rows: results.slice(0, options.limit), hasMore: results.length > options.limit };
}
