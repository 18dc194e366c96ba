/**
 * @module keys-db
 * The `api_keys` table in D1 (migrations/0001): rows hold a key's hash and
 * visible prefix, never the secret. Only the admin API and the account
 * Durable Object (loading, flushing last use) touch it.
 */
import type { ApiKey, KeyMode, KeyStatus } from "../../../shared/admin";
import type { KeyState } from "../account-state";
import { ApiError } from "../../core/errors";
import { toSeconds } from "../accounts-db";

export interface KeyRow {
  id: string;
  account_id: string;
  name: string | null;
  mode: KeyMode;
  hash: string;
  prefix: string;
  /** JSON array or NULL. */
  models: string | null;
  origins: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  rotated_to: string | null;
  last_used_at: number | null;
}

function parseList(text: string | null): string[] | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : null;
  } catch {
    // A damaged allow-list must not become "allow everything".
    return [];
  }
}

export function keyStatus(row: Pick<KeyRow, "revoked_at" | "expires_at">, now: number): KeyStatus {
  if (row.revoked_at !== null && row.revoked_at <= now) return "revoked";
  if (row.expires_at !== null && row.expires_at <= now) return "expired";
  return "active";
}

export function toApiKey(row: KeyRow, now: number): ApiKey {
  return {
    id: row.id,
    object: "api_key",
    account_id: row.account_id,
    name: row.name,
    mode: row.mode,
    status: keyStatus(row, now),
    prefix: row.prefix,
    created_at: toSeconds(row.created_at),
    expires_at: row.expires_at === null ? null : toSeconds(row.expires_at),
    revoked_at: row.revoked_at === null ? null : toSeconds(row.revoked_at),
    last_used_at: row.last_used_at === null ? null : toSeconds(row.last_used_at),
    models: parseList(row.models),
    origins: parseList(row.origins),
    rotated_to: row.rotated_to,
  };
}

export function toKeyState(row: KeyRow): KeyState {
  return {
    id: row.id,
    hash: row.hash,
    mode: row.mode,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    rotatedTo: row.rotated_to,
    models: parseList(row.models),
    origins: parseList(row.origins),
    lastUsedAt: row.last_used_at,
  };
}

export function insertKeyStatement(db: D1Database, row: KeyRow): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO api_keys (id, account_id, name, mode, hash, prefix, models, origins, created_at, expires_at, revoked_at, rotated_to, last_used_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      row.id,
      row.account_id,
      row.name,
      row.mode,
      row.hash,
      row.prefix,
      row.models,
      row.origins,
      row.created_at,
      row.expires_at,
      row.revoked_at,
      row.rotated_to,
      row.last_used_at,
    );
}

export async function getKeyRow(db: D1Database, id: string): Promise<KeyRow | null> {
  return db.prepare("SELECT * FROM api_keys WHERE id = ?").bind(id).first<KeyRow>();
}

export async function requireKeyRow(db: D1Database, id: string): Promise<KeyRow> {
  const row = await getKeyRow(db, id);
  if (!row) throw new ApiError("not_found", `No API key with id '${id}'.`, { param: "key_id" });
  return row;
}

/** Every key of an account: what its Durable Object loads. */
export async function listKeyRowsOfAccount(db: D1Database, accountId: string): Promise<KeyRow[]> {
  const { results } = await db.prepare("SELECT * FROM api_keys WHERE account_id = ?").bind(accountId).all<KeyRow>();
  return results;
}

/** Records a revocation; an earlier one already recorded wins (revocations never move later). */
export async function revokeKeyRow(db: D1Database, id: string, revokedAt: number, rotatedTo: string | null): Promise<void> {
  await db
    .prepare(
      `UPDATE api_keys SET revoked_at = MIN(COALESCE(revoked_at, ?1), ?1), rotated_to = COALESCE(rotated_to, ?2) WHERE id = ?3`,
    )
    .bind(revokedAt, rotatedTo, id)
    .run();
}

/** Writes last-use times flushed by an account's Durable Object, never moving one back. */
export async function flushLastUsed(db: D1Database, accountId: string, entries: { id: string; lastUsedAt: number }[]): Promise<void> {
  if (entries.length === 0) return;
  const statement = db.prepare(
    "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE id = ? AND account_id = ?",
  );
  await db.batch(entries.map((e) => statement.bind(e.lastUsedAt, e.id, accountId)));
}
