/**
 * @module ledger-storage
 * The account object's usage ledger in its SQLite (schema in
 * account-storage.ts, versions 2 to 5): one row per settled request, marked
 * once rolled up into D1, and the Idempotency-Key answers kept for retries.
 */
import type { UsageEndpoint, UsageStatus } from "../../../shared/usage";
import type { LedgerEntry } from "../account-rpc";

type LedgerRow = {
  seq: number;
  request_id: string;
  key_id: string;
  end_user: string | null;
  endpoint: string | null;
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

export class LedgerStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  hasLedgerEntry(requestId: string): boolean {
    return this.#sql.exec("SELECT 1 FROM ledger WHERE request_id = ?", requestId).toArray().length > 0;
  }

  /** Appends one entry; a second entry for the same request is ignored (exactly one record per request). */
  appendLedger(e: LedgerEntry): boolean {
    const cursor = this.#sql.exec(
      `INSERT INTO ledger (request_id, key_id, end_user, endpoint, model, backend, mode, prompt_tokens, completion_tokens, cached, status, ttft_ms, duration_ms, cost_micro_usd, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(request_id) DO NOTHING`,
      e.request_id,
      e.key_id,
      e.end_user ?? null,
      e.endpoint ?? null,
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
    end_user: row.end_user,
    endpoint: (row.endpoint as UsageEndpoint | null) ?? null,
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
