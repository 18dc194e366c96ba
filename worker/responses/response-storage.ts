/**
 * @module response-storage
 * The response store's SQLite: one row per stored response, its record as
 * JSON (a full-length answer is ~100 KB, far below the 2 MB row limit), and
 * when it is forgotten. The object migrates itself once, by a version row.
 *
 * Schema (version 1):
 *   responses(id TEXT PRIMARY KEY, record TEXT, expires_at INTEGER)  -- Unix ms
 */
import type { ResponseRecord } from "./response-object";
import { migrateSchema } from "../core/sqlite-schema";

/** Each entry upgrades the schema by one version; never edit a shipped entry. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE responses (id TEXT PRIMARY KEY, record TEXT NOT NULL, expires_at INTEGER NOT NULL);
   CREATE INDEX responses_by_expiry ON responses (expires_at);`,
];

export class ResponseStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  migrate(): void {
    migrateSchema(this.#sql, MIGRATIONS);
  }

  put(record: ResponseRecord, expiresAt: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO responses (id, record, expires_at) VALUES (?, ?, ?)", record.id, JSON.stringify(record), expiresAt);
  }

  /** The record, unless it expired before `now`. */
  get(id: string, now: number): ResponseRecord | null {
    const row = this.#sql.exec<{ record: string }>("SELECT record FROM responses WHERE id = ? AND expires_at > ?", id, now).toArray()[0];
    return row ? (JSON.parse(row.record) as ResponseRecord) : null;
  }

  remove(id: string): boolean {
    return this.#sql.exec("DELETE FROM responses WHERE id = ?", id).rowsWritten > 0;
  }

  /** Forgets what expired; returns the next expiry (Unix ms), or null when nothing is left. */
  prune(now: number): number | null {
    this.#sql.exec("DELETE FROM responses WHERE expires_at <= ?", now);
    return this.#sql.exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM responses").toArray()[0]?.next ?? null;
  }
}
