/**
 * @module keys-service
 * Admin operations on API keys: create, list, revoke, rotate. The secret
 * exists only in the answer to create and rotate; D1 and the account's
 * Durable Object keep its hash. Ordering as in accounts-service: a new key
 * goes to D1 first, a revocation goes to the object first, so the hot path is
 * never more permissive than D1.
 */
import {
  DEFAULT_PAGE_LIMIT,
  type ApiKey,
  type CreatedApiKey,
  type CreateKeyRequest,
  type ListPage,
  type ListQuery,
  type RotatedApiKey,
} from "../../../shared/admin";
import { MODEL_CATALOGUE } from "../../../shared/constants";
import type { Env } from "../../env";
import { ApiError } from "../../core/errors";
import { accountObject } from "../account-rpc";
import { pageRows, requireAccountRow, toSeconds } from "../accounts-db";
import { toListPage } from "../accounts-service";
import { generateApiKey, hashApiKey, isRoutableAccountId, keyPrefix, newKeyId } from "./key-format";
import { insertKeyStatement, keyStatus, requireKeyRow, revokeKeyRow, toApiKey, toKeyState, type KeyRow } from "./keys-db";

type AdminEnv = Pick<Env, "DB" | "ACCOUNTS">;

export async function createKey(env: AdminEnv, accountId: string, input: CreateKeyRequest, now = Date.now()): Promise<CreatedApiKey> {
  const account = await requireAccountRow(env.DB, accountId);
  if (!isRoutableAccountId(account.id)) {
    throw new ApiError("conflict", `The account '${account.id}' cannot hold generated keys.`, { param: "id" });
  }
  const expiresAt = input.expires_at == null ? null : input.expires_at * 1000;
  if (expiresAt !== null && expiresAt <= now) {
    throw new ApiError("invalid_value", "Invalid value for 'expires_at': it must be in the future.", { param: "expires_at" });
  }
  const models = input.models == null ? null : normalizeModels(input.models);
  const origins = input.origins == null ? null : [...new Set(input.origins)];
  const { row, secret } = await newKeyRow(account.id, {
    name: input.name ?? null,
    mode: input.mode ?? "live",
    models: models === null ? null : JSON.stringify(models),
    origins: origins === null ? null : JSON.stringify(origins),
    expires_at: expiresAt,
    created_at: now,
  });
  await insertKeyStatement(env.DB, row).run();
  await accountObject(env, account.id).putKey(account.id, toKeyState(row));
  return { ...toApiKey(row, now), key: secret };
}

export async function listKeys(env: AdminEnv, accountId: string, query: ListQuery, now = Date.now()): Promise<ListPage<ApiKey>> {
  await requireAccountRow(env.DB, accountId);
  const page = await pageRows<KeyRow>(env.DB, "api_keys", {
    limit: query.limit ?? DEFAULT_PAGE_LIMIT,
    after: query.after,
    scope: { column: "account_id", value: accountId },
  });
  return toListPage(page.rows.map((row) => toApiKey(row, now)), page.hasMore);
}

/** Revokes now. Idempotent: an earlier revocation stands. */
export async function revokeKey(env: AdminEnv, keyId: string, now = Date.now()): Promise<ApiKey> {
  const row = await requireKeyRow(env.DB, keyId);
  await accountObject(env, row.account_id).revokeKey(row.account_id, row.id, now);
  await revokeKeyRow(env.DB, row.id, now, null);
  return toApiKey(await requireKeyRow(env.DB, keyId), now);
}

/**
 * Issues a replacement with the same settings; the old secret keeps working
 * for `graceSeconds`, then fails as revoked (rotated).
 */
export async function rotateKey(env: AdminEnv, keyId: string, graceSeconds: number, now = Date.now()): Promise<RotatedApiKey> {
  const old = await requireKeyRow(env.DB, keyId);
  if (keyStatus(old, now) !== "active") {
    throw new ApiError("conflict", `The API key '${old.id}' is ${keyStatus(old, now)} and cannot be rotated.`, { param: "key_id" });
  }
  if (old.rotated_to !== null) {
    throw new ApiError("conflict", `The API key '${old.id}' was already rotated to '${old.rotated_to}'.`, { param: "key_id" });
  }
  const { row, secret } = await newKeyRow(old.account_id, {
    name: old.name,
    mode: old.mode,
    models: old.models,
    origins: old.origins,
    expires_at: old.expires_at,
    created_at: now,
  });
  const account = accountObject(env, old.account_id);
  // The new key is permissive (D1 first); retiring the old one is restrictive (object first).
  await insertKeyStatement(env.DB, row).run();
  await account.putKey(old.account_id, toKeyState(row));
  const revokedAt = now + graceSeconds * 1000;
  await account.revokeKey(old.account_id, old.id, revokedAt, row.id);
  await revokeKeyRow(env.DB, old.id, revokedAt, row.id);
  return { ...toApiKey(row, now), key: secret, rotated_from: old.id, previous_key_revoked_at: toSeconds(revokedAt) };
}

async function newKeyRow(
  accountId: string,
  fields: Pick<KeyRow, "name" | "mode" | "models" | "origins" | "expires_at" | "created_at">,
): Promise<{ row: KeyRow; secret: string }> {
  const secret = generateApiKey(accountId, fields.mode);
  const row: KeyRow = {
    ...fields,
    id: newKeyId(),
    account_id: accountId,
    hash: await hashApiKey(secret),
    prefix: keyPrefix(secret),
    revoked_at: null,
    rotated_to: null,
    last_used_at: null,
  };
  return { row, secret };
}

/** Public ids (`limo`) or served names (`GAIR/LIMO`) to public ids; unknown names are a 400. */
export function normalizeModels(models: readonly string[]): string[] {
  const ids = models.map((name, i) => {
    const model = MODEL_CATALOGUE.find((m) => m.id === name || m.servedName === name);
    if (!model) throw new ApiError("invalid_value", `Invalid value for 'models[${i}]': unknown model '${name}'.`, { param: `models[${i}]` });
    return model.id;
  });
  return [...new Set(ids)];
}
