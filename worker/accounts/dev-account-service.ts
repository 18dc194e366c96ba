/**
 * @module dev-account-service
 * The development account that DEV_API_KEY belongs to. It is seeded on the
 * key's first use (in development only: auth-service decides), idempotently,
 * with the key's hash, never the key: D1 first, then the account's object.
 */
import type { Env } from "../env";
import { accountObject } from "./account-rpc";

export const DEV_ACCOUNT_ID = "acct_dev";
export const DEV_KEY_ID = "key_dev";

/**
 * Creates the dev account if missing, points its one key at `keyHash` (a new
 * DEV_API_KEY replaces the old one; an admin's revocation of the same key is
 * kept), and loads the result into the account's object.
 */
export async function seedDevAccount(env: Pick<Env, "DB" | "ACCOUNTS">, keyHash: string, prefix: string): Promise<void> {
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO accounts (id, name, plan, status, limits, created_at, updated_at)
       VALUES (?, 'Development', 'dev', 'active', '{}', ?, ?) ON CONFLICT(id) DO NOTHING`,
    ).bind(DEV_ACCOUNT_ID, now, now),
    env.DB.prepare(
      `INSERT INTO api_keys (id, account_id, name, mode, hash, prefix, created_at)
       VALUES (?, ?, 'DEV_API_KEY', 'test', ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET hash = excluded.hash, prefix = excluded.prefix, revoked_at = NULL, rotated_to = NULL
       WHERE api_keys.hash != excluded.hash`,
    ).bind(DEV_KEY_ID, DEV_ACCOUNT_ID, keyHash, prefix, now),
  ]);
  await accountObject(env, DEV_ACCOUNT_ID).sync(DEV_ACCOUNT_ID);
}
