/**
 * @module refusal-storage
 * The account object's refusal counters in its SQLite: one row per minute,
 * HTTP status and error code, incremented in place. A burst of 429s costs
 * one upsert each in the call that refused them, never a ledger row. The
 * table creates itself (`IF NOT EXISTS`) rather than taking a schema version
 * in account-storage.ts, so it stays out of the version list other work adds to.
 */
import { REFUSAL_BUCKET_MS, type RefusalCount } from "../../../shared/refusals";

/** How long counters are kept: as long as the ledger's own rows. */
export const REFUSAL_RETENTION_MS = 35 * 24 * 3600 * 1000;

export class RefusalStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Creates the table once (call inside blockConcurrencyWhile). */
  migrate(): void {
    this.#sql.exec(
      `CREATE TABLE IF NOT EXISTS refusals (
         minute INTEGER NOT NULL, status INTEGER NOT NULL, code TEXT NOT NULL, count INTEGER NOT NULL,
         PRIMARY KEY (minute, status, code)
       ) WITHOUT ROWID`,
    );
  }

  /** Counts `count` refusals at `at` (Unix ms). */
  add(at: number, status: number, code: string, count = 1): void {
    this.#sql.exec(
      `INSERT INTO refusals (minute, status, code, count) VALUES (?, ?, ?, ?)
       ON CONFLICT (minute, status, code) DO UPDATE SET count = count + excluded.count`,
      Math.floor(at / REFUSAL_BUCKET_MS),
      status,
      code,
      count,
    );
  }

  /** Totals by status and code of the minutes that start in from ≤ t < to. */
  totals(from: number, to: number): RefusalCount[] {
    return this.#sql
      .exec<{ status: number; code: string; count: number }>(
        `SELECT status, code, SUM(count) AS count FROM refusals WHERE minute >= ? AND minute < ?
         GROUP BY status, code ORDER BY status, code`,
        Math.floor(from / REFUSAL_BUCKET_MS),
        Math.ceil(to / REFUSAL_BUCKET_MS),
      )
      .toArray()
      .map((r) => ({ status: r.status, code: r.code, count: r.count }));
  }

  /** Drops the minutes before `before` (Unix ms). */
  prune(before: number): void {
    this.#sql.exec("DELETE FROM refusals WHERE minute < ?", Math.floor(before / REFUSAL_BUCKET_MS));
  }
}
