/**
 * @module admission-storage
 * The account object's admission state in its SQLite (schema in
 * account-storage.ts, versions 2 and 4): the token buckets and the month counter,
 * small and rewritten whole, and one row per reservation in flight.
 */
import { newAdmissionState, type AdmissionState, type Reservation } from "./admission";

type AdmissionRow = {
  requests_level: number | null;
  requests_at: number | null;
  tokens_level: number | null;
  tokens_at: number | null;
  month: string;
  month_used: number;
};

type ReservationRow = {
  request_id: string;
  key_id: string;
  model: string;
  mode: string;
  prompt_tokens: number;
  completion_tokens: number;
  admitted_at: number;
  expires_at: number;
  end_user: string | null;
  client_token_id: string | null;
};

export class AdmissionStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  readAdmission(now: number): AdmissionState {
    const state = newAdmissionState(now);
    const row = this.#sql.exec<AdmissionRow>("SELECT * FROM admission WHERE id = 1").toArray()[0];
    if (row) {
      state.month = row.month;
      state.monthUsed = row.month_used;
      if (row.requests_level !== null && row.requests_at !== null) state.requests = { level: row.requests_level, updatedAt: row.requests_at };
      if (row.tokens_level !== null && row.tokens_at !== null) state.tokens = { level: row.tokens_level, updatedAt: row.tokens_at };
    }
    for (const r of this.#sql.exec<ReservationRow>("SELECT * FROM reservations").toArray()) {
      state.inFlight.set(r.request_id, {
        requestId: r.request_id,
        keyId: r.key_id,
        model: r.model,
        mode: r.mode === "test" ? "test" : "live",
        promptTokens: r.prompt_tokens,
        completionTokens: r.completion_tokens,
        admittedAt: r.admitted_at,
        expiresAt: r.expires_at,
        endUser: r.end_user,
        clientTokenId: r.client_token_id,
      });
    }
    return state;
  }

  /** Rewrites the buckets and month counter (reservations are written one by one). */
  writeAdmission(state: AdmissionState): void {
    this.#sql.exec(
      `INSERT INTO admission (id, requests_level, requests_at, tokens_level, tokens_at, month, month_used) VALUES (1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET requests_level = excluded.requests_level, requests_at = excluded.requests_at,
         tokens_level = excluded.tokens_level, tokens_at = excluded.tokens_at, month = excluded.month, month_used = excluded.month_used`,
      state.requests?.level ?? null,
      state.requests?.updatedAt ?? null,
      state.tokens?.level ?? null,
      state.tokens?.updatedAt ?? null,
      state.month,
      state.monthUsed,
    );
  }

  insertReservation(r: Reservation): void {
    this.#sql.exec(
      `INSERT INTO reservations (request_id, key_id, model, mode, prompt_tokens, completion_tokens, admitted_at, expires_at, end_user, client_token_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.requestId,
      r.keyId,
      r.model,
      r.mode,
      r.promptTokens,
      r.completionTokens,
      r.admittedAt,
      r.expiresAt,
      r.endUser ?? null,
      r.clientTokenId ?? null,
    );
  }

  deleteReservation(requestId: string): void {
    this.#sql.exec("DELETE FROM reservations WHERE request_id = ?", requestId);
  }
}
