/**
 * @module client-token-storage
 * The account object's client tokens in its SQLite (schema in
 * account-storage.ts, version 4): one row per live token, keyed by the
 * secret's SHA-256 (the secret itself is never stored), read on each request
 * that presents one, and pruned once expired.
 */
import type { ClientTokenState } from "./client-token-state";

type ClientTokenRow = {
  hash: string;
  id: string;
  key_id: string;
  mode: string;
  end_user: string;
  models: string | null;
  origins: string | null;
  max_total_tokens: number | null;
  max_requests: number | null;
  used_tokens: number;
  used_requests: number;
  created_at: number;
  expires_at: number;
};

export class ClientTokenStorage {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  byHash(hash: string): ClientTokenState | null {
    const row = this.#sql.exec<ClientTokenRow>("SELECT * FROM client_tokens WHERE hash = ?", hash).toArray()[0];
    return row ? fromRow(row) : null;
  }

  byId(id: string): ClientTokenState | null {
    const row = this.#sql.exec<ClientTokenRow>("SELECT * FROM client_tokens WHERE id = ?", id).toArray()[0];
    return row ? fromRow(row) : null;
  }

  insert(t: ClientTokenState): void {
    this.#sql.exec(
      `INSERT INTO client_tokens (hash, id, key_id, mode, end_user, models, origins, max_total_tokens, max_requests, used_tokens, used_requests, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      t.hash,
      t.id,
      t.keyId,
      t.mode,
      t.endUser,
      t.models === null ? null : JSON.stringify(t.models),
      t.origins === null ? null : JSON.stringify(t.origins),
      t.maxTotalTokens,
      t.maxRequests,
      t.usedTokens,
      t.usedRequests,
      t.createdAt,
      t.expiresAt,
    );
  }

  /** Writes what a request changes: its counters. */
  writeUsage(t: ClientTokenState): void {
    this.#sql.exec("UPDATE client_tokens SET used_tokens = ?, used_requests = ? WHERE id = ?", t.usedTokens, t.usedRequests, t.id);
  }

  /** Drops expired tokens (a request they admitted still settles: its reservation holds what it needs). */
  pruneExpired(now: number): number {
    return this.#sql.exec("DELETE FROM client_tokens WHERE expires_at <= ?", now).rowsWritten;
  }

  /** When the next token expires, for the alarm that prunes it. */
  nextExpiry(): number | null {
    return this.#sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM client_tokens").one().at;
  }

  count(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM client_tokens").one().n;
  }
}

function fromRow(row: ClientTokenRow): ClientTokenState {
  return {
    id: row.id,
    hash: row.hash,
    keyId: row.key_id,
    mode: row.mode === "test" ? "test" : "live",
    endUser: row.end_user,
    models: row.models === null ? null : (JSON.parse(row.models) as string[]),
    origins: row.origins === null ? null : (JSON.parse(row.origins) as string[]),
    maxTotalTokens: row.max_total_tokens,
    maxRequests: row.max_requests,
    usedTokens: row.used_tokens,
    usedRequests: row.used_requests,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}
