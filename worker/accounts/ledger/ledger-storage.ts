/**
 * @module usage-storage
 * The account object's admission state and usage ledger in its SQLite (schema
 * in account-storage.ts, version 2). Admission state is small and rewritten
 * whole; reservations and ledger rows are one row each.
 */
import type { UsageRecord, UsageStatus } from "../../../shared/usage";
import { newAdmissionState, type AdmissionState, type Reservation } from "../limits/admission";

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
};

type LedgerRow = {
  seq: number;
  request_id: string;
  key_id: string;
  model: string;
  backend: string;
  mode: string;
  prompt_tokens: number;
  completion_tokens: number;
  cached: number;
  status: string;
  ttft_ms: number | null;
  duration_ms: number;
  cost_micro_usd: number;
  created_at: number;
};

/** A ledger entry as the object stores it (the account id is the object's own). */
export type LedgerEntry = Omit<UsageRecord, "account_id">;

export class UsageStorage {
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
      "INSERT INTO reservations (request_id, key_id, model, mode, prompt_tokens, completion_tokens, admitted_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      r.requestId,
      r.keyId,
      r.model,
      r.mode,
      r.promptTokens,
      r.completionTokens,
      r.admittedAt,
      r.expiresAt,
    );
  }

  deleteReservation(requestId: string): void {
    this.#sql.exec("DELETE FROM reservations WHERE request_id = ?", requestId);
  }

  hasLedgerEntry(requestId: string): boolean {
    return this.#sql.exec("SELECT 1 FROM ledger WHERE request_id = ?", requestId).toArray().length > 0;
  }

  /** Appends one entry; a second entry for the same request is ignored (exactly one record per request). */
  appendLedger(e: LedgerEntry): boolean {
    const cursor = this.#sql.exec(
      `INSERT INTO ledger (request_id, key_id, model, backend, mode, prompt_tokens, completion_tokens, cached, status, ttft_ms, duration_ms, cost_micro_usd, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(request_id) DO NOTHING`,
      e.request_id,
      e.key_id,
      e.model,
      e.backend,
      e.mode,
      e.prompt_tokens,
      e.completion_tokens,
      e.cached ? 1 : 0,
      e.status,
      e.ttft_ms,
      e.duration_ms,
      e.cost_micro_usd,
      e.created_at,
    );
    return cursor.rowsWritten > 0;
  }

  /** The oldest entries not yet in D1, with their sequence numbers. */
  unrolled(limit: number): { seq: number; entry: LedgerEntry }[] {
    return this.#sql
      .exec<LedgerRow>("SELECT * FROM ledger WHERE rolled_up = 0 ORDER BY seq LIMIT ?", limit)
      .toArray()
      .map((row) => ({ seq: row.seq, entry: toEntry(row) }));
  }

  hasUnrolled(): boolean {
    return this.#sql.exec("SELECT 1 FROM ledger WHERE rolled_up = 0 LIMIT 1").toArray().length > 0;
  }

  /** Marks a batch from `unrolled` as in D1: it is every unrolled entry up to its last sequence number. */
  markRolledThrough(lastSeq: number): void {
    this.#sql.exec("UPDATE ledger SET rolled_up = 1 WHERE rolled_up = 0 AND seq <= ?", lastSeq);
  }

  /** Drops entries already in D1 and older than `before` (D1 keeps them). */
  pruneRolled(before: number): void {
    this.#sql.exec("DELETE FROM ledger WHERE rolled_up = 1 AND created_at < ?", before);
  }

  /** An Idempotency-Key's entry: `response` is null while its request is in progress. */
  getIdempotency(key: string): { fingerprint: string; requestId: string; response: string | null; createdAt: number } | null {
    const row = this.#sql
      .exec<{ fingerprint: string; request_id: string; response: string | null; created_at: number }>(
        "SELECT fingerprint, request_id, response, created_at FROM idempotency WHERE key = ?",
        key,
      )
      .toArray()[0];
    return row ? { fingerprint: row.fingerprint, requestId: row.request_id, response: row.response, createdAt: row.created_at } : null;
  }

  startIdempotency(key: string, fingerprint: string, requestId: string, now: number): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO idempotency (key, fingerprint, request_id, response, created_at) VALUES (?, ?, ?, NULL, ?)",
      key,
      fingerprint,
      requestId,
      now,
    );
  }

  /** Stores the result for replays, or (null) forgets the key so a retry runs again. */
  finishIdempotency(key: string, requestId: string, response: string | null): void {
    if (response === null) this.#sql.exec("DELETE FROM idempotency WHERE key = ? AND request_id = ?", key, requestId);
    else this.#sql.exec("UPDATE idempotency SET response = ? WHERE key = ? AND request_id = ?", response, key, requestId);
  }

  /** Lets retries of a request that never settled run again. */
  forgetUnfinishedIdempotency(requestId: string): void {
    this.#sql.exec("DELETE FROM idempotency WHERE request_id = ? AND response IS NULL", requestId);
  }

  pruneIdempotency(before: number): void {
    this.#sql.exec("DELETE FROM idempotency WHERE created_at < ?", before);
  }

  /** Every entry, newest first (tests and reconciliation). */
  entries(): LedgerEntry[] {
    return this.#sql.exec<LedgerRow>("SELECT * FROM ledger ORDER BY seq DESC").toArray().map(toEntry);
  }
}

function toEntry(row: LedgerRow): LedgerEntry {
  return {
    request_id: row.request_id,
    key_id: row.key_id,
    model: row.model,
    backend: row.backend,
    mode: row.mode === "test" ? "test" : "live",
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    cached: row.cached === 1,
    status: row.status as UsageStatus,
    ttft_ms: row.ttft_ms,
    duration_ms: row.duration_ms,
    cost_micro_usd: row.cost_micro_usd,
    created_at: row.created_at,
  };
}
