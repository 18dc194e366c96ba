/**
 * @module account-storage
 * The account Durable Object's SQLite schema and typed reads and writes. The
 * object migrates itself once, guided by a schema-version row, inside
 * `blockConcurrencyWhile`. Like D1, it stores key hashes, never secrets.
 */
import { parseEndUserSettings, serializeEndUserSettings } from "../../shared/end-users";
import { parseLimits } from "./accounts-db";
import type { AccountState, KeyState } from "./account-state";
import { migrateSchema } from "../core/sqlite-schema";

/** Each entry upgrades the schema by one version; never edit a shipped entry. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE account (id TEXT PRIMARY KEY, status TEXT NOT NULL, plan TEXT NOT NULL, limits TEXT NOT NULL);
   CREATE TABLE keys (
     hash TEXT PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     mode TEXT NOT NULL,
     expires_at INTEGER,
     revoked_at INTEGER,
     rotated_to TEXT,
     models TEXT,
     origins TEXT,
     last_used_at INTEGER,
     last_used_flushed_at INTEGER
   );`,
  // v2: admission (rate buckets, month counter, reservations) and the usage ledger.
  `CREATE TABLE admission (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     requests_level REAL, requests_at INTEGER,
     tokens_level REAL, tokens_at INTEGER,
     month TEXT NOT NULL, month_used INTEGER NOT NULL
   );
   CREATE TABLE reservations (
     request_id TEXT PRIMARY KEY,
     key_id TEXT NOT NULL, model TEXT NOT NULL, mode TEXT NOT NULL,
     prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
     admitted_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
   );
   CREATE TABLE ledger (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     request_id TEXT NOT NULL UNIQUE,
     key_id TEXT NOT NULL, model TEXT NOT NULL, backend TEXT NOT NULL, mode TEXT NOT NULL,
     prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cached INTEGER NOT NULL,
     status TEXT NOT NULL, ttft_ms INTEGER, duration_ms INTEGER NOT NULL, cost_micro_usd INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     rolled_up INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX ledger_unrolled ON ledger (rolled_up, seq);`,
  // v3: Idempotency-Key results, kept 24 hours.
  `CREATE TABLE idempotency (
     key TEXT PRIMARY KEY,
     fingerprint TEXT NOT NULL,
     request_id TEXT NOT NULL,
     response TEXT,
     created_at INTEGER NOT NULL
   );`,
  // v4: tutoring platforms (issue 14): end users on reservations and the ledger,
  // per-end-user state (a row per end user seen recently), client tokens (hashes only).
  `ALTER TABLE account ADD COLUMN end_user_settings TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE reservations ADD COLUMN end_user TEXT;
   ALTER TABLE reservations ADD COLUMN client_token_id TEXT;
   ALTER TABLE ledger ADD COLUMN end_user TEXT;
   CREATE TABLE end_users (
     end_user TEXT PRIMARY KEY,
     requests_level REAL, requests_at INTEGER,
     day TEXT NOT NULL, day_used INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX end_users_by_day ON end_users (day, updated_at);
   CREATE TABLE client_tokens (
     hash TEXT PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     key_id TEXT NOT NULL, mode TEXT NOT NULL, end_user TEXT NOT NULL,
     models TEXT, origins TEXT,
     max_total_tokens INTEGER, max_requests INTEGER,
     used_tokens INTEGER NOT NULL, used_requests INTEGER NOT NULL,
     created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
   );
   CREATE INDEX client_tokens_by_expiry ON client_tokens (expires_at);`,
  // v5: the endpoint each ledger entry is for (`chat.completions`, `completions`, `responses`, `answers.check`).
  `ALTER TABLE ledger ADD COLUMN endpoint TEXT;`,
];

type KeyRow = {
  hash: string;
  id: string;
  mode: string;
  expires_at: number | null;
  revoked_at: number | null;
  rotated_to: string | null;
  models: string | null;
  origins: string | null;
  last_used_at: number | null;
};

/** Typed access to one account object's SQLite database. */
export class AccountStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Brings the schema to the latest version (call inside blockConcurrencyWhile). */
  migrate(): void {
    migrateSchema(this.#sql, MIGRATIONS);
  }

  getMeta(key: string): string | null {
    return this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.#sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
  }

  readAccount(): AccountState | null {
    const row = this.#sql
      .exec<{ id: string; status: string; plan: string; limits: string; end_user_settings: string }>(
        "SELECT id, status, plan, limits, end_user_settings FROM account",
      )
      .toArray()[0];
    if (!row) return null;
    return {
      id: row.id,
      status: row.status === "active" ? "active" : "suspended",
      plan: row.plan,
      limits: parseLimits(row.limits),
      endUsers: parseEndUserSettings(row.end_user_settings),
    };
  }

  writeAccount(account: AccountState): void {
    this.#sql.exec("DELETE FROM account WHERE id != ?", account.id);
    this.#sql.exec(
      `INSERT INTO account (id, status, plan, limits, end_user_settings) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET status = excluded.status, plan = excluded.plan, limits = excluded.limits,
         end_user_settings = excluded.end_user_settings`,
      account.id,
      account.status,
      account.plan,
      JSON.stringify(account.limits),
      serializeEndUserSettings(account.endUsers ?? { limits: {}, requireEndUser: false }),
    );
  }

  readKeys(): KeyState[] {
    return this.#sql.exec<KeyRow>("SELECT * FROM keys").toArray().map(fromRow);
  }

  writeKey(key: KeyState): void {
    this.#sql.exec(
      `INSERT INTO keys (hash, id, mode, expires_at, revoked_at, rotated_to, models, origins, last_used_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(hash) DO UPDATE SET id = excluded.id, mode = excluded.mode, expires_at = excluded.expires_at,
         revoked_at = excluded.revoked_at, rotated_to = excluded.rotated_to, models = excluded.models,
         origins = excluded.origins, last_used_at = excluded.last_used_at`,
      key.hash,
      key.id,
      key.mode,
      key.expiresAt,
      key.revokedAt,
      key.rotatedTo,
      key.models === null ? null : JSON.stringify(key.models),
      key.origins === null ? null : JSON.stringify(key.origins),
      key.lastUsedAt,
    );
  }

  /** Replaces every key (a sync from D1), in one implicit transaction. */
  replaceKeys(keys: readonly KeyState[]): void {
    this.#sql.exec("DELETE FROM keys");
    for (const key of keys) this.writeKey(key);
  }

  recordLastUsed(hash: string, at: number): void {
    this.#sql.exec("UPDATE keys SET last_used_at = ? WHERE hash = ?", at, hash);
  }

  /** Last-use times not yet written to D1. */
  unflushedLastUsed(): { id: string; lastUsedAt: number }[] {
    return this.#sql
      .exec<{ id: string; last_used_at: number }>(
        "SELECT id, last_used_at FROM keys WHERE last_used_at IS NOT NULL AND last_used_at > COALESCE(last_used_flushed_at, 0)",
      )
      .toArray()
      .map((r) => ({ id: r.id, lastUsedAt: r.last_used_at }));
  }

  markFlushed(entries: readonly { id: string; lastUsedAt: number }[]): void {
    for (const e of entries) this.#sql.exec("UPDATE keys SET last_used_flushed_at = ? WHERE id = ?", e.lastUsedAt, e.id);
  }
}

function fromRow(row: KeyRow): KeyState {
  return {
    id: row.id,
    hash: row.hash,
    mode: row.mode === "test" ? "test" : "live",
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    rotatedTo: row.rotated_to,
    models: row.models === null ? null : (JSON.parse(row.models) as string[]),
    origins: row.origins === null ? null : (JSON.parse(row.origins) as string[]),
    lastUsedAt: row.last_used_at,
  };
}
