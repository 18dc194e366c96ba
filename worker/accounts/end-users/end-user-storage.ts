/**
 * @module end-user-storage
 * The account object's per-end-user state in its SQLite (schema in
 * account-storage.ts, version 4): one small row per end user seen recently,
 * read when a request of that end user arrives and written when it is
 * admitted or settled. Nothing is kept in memory, so thousands of end users
 * cost only their rows; a row is pruned once it says nothing a fresh one
 * would not (its day is over and its bucket has had a minute to refill).
 */
import { WINDOW_MS } from "../limits/token-bucket";
import { dayOf, newEndUserState, type EndUserState } from "./end-user-limits";

type EndUserRow = {
  end_user: string;
  requests_level: number | null;
  requests_at: number | null;
  day: string;
  day_used: number;
};

export class EndUserStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** The end user's state, or a fresh one when it has no row. */
  read(endUser: string, now: number): EndUserState {
    const row = this.#sql.exec<EndUserRow>("SELECT * FROM end_users WHERE end_user = ?", endUser).toArray()[0];
    if (!row) return newEndUserState(endUser, now);
    const state: EndUserState = { endUser, requests: null, day: row.day, dayUsed: row.day_used };
    if (row.requests_level !== null && row.requests_at !== null) state.requests = { level: row.requests_level, updatedAt: row.requests_at };
    return state;
  }

  write(state: EndUserState, now: number): void {
    this.#sql.exec(
      `INSERT INTO end_users (end_user, requests_level, requests_at, day, day_used, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(end_user) DO UPDATE SET requests_level = excluded.requests_level, requests_at = excluded.requests_at,
         day = excluded.day, day_used = excluded.day_used, updated_at = excluded.updated_at`,
      state.endUser,
      state.requests?.level ?? null,
      state.requests?.updatedAt ?? null,
      state.day,
      state.dayUsed,
      now,
    );
  }

  /**
   * Drops the rows equal to a fresh state: a day before today (its tokens no
   * longer count) and untouched for a bucket's whole refill window. An end user
   * with a request in flight keeps its row: settling it writes the row again.
   */
  prune(now: number): number {
    return this.#sql.exec("DELETE FROM end_users WHERE day < ? AND updated_at < ?", dayOf(now), now - WINDOW_MS).rowsWritten;
  }

  /** Rows stored (tests and the bound on storage). */
  count(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM end_users").one().n;
  }
}
