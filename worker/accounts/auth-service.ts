/**
 * @module auth-service
 * Who is calling. The bearer-auth middleware asks an `Authenticator`; the
 * account-key one checks the key's format and checksum (no storage touched
 * for junk), hashes it, and makes the one `authorize` call to the account's
 * Durable Object that the key's routing part names. D1 is never read here.
 */
import { ApiError } from "../core/errors";
import { log } from "../core/log";
import type { Env } from "../env";
import { accountObject, type AccountRpc } from "./account-rpc";
import type { AuthorizeResult } from "./account-state";
import { DEV_ACCOUNT_ID, seedDevAccount } from "./dev-account-service";
import { clientTokenPrefix, parseClientToken } from "./client-tokens/client-token-format";
import { hashApiKey, keyPrefix, parseApiKey } from "./keys/key-format";
import type { Authenticator, Credential, Principal } from "./principal";

const encoder = new TextEncoder();

/**
 * Constant-time string equality: hashes both sides first so neither the
 * content nor the length of the secret leaks through timing.
 */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

export type AuthEnv = Pick<Env, "ENVIRONMENT" | "DEV_API_KEY" | "ACCOUNTS" | "DB">;

/** Accepts account keys (`limo_sk_…`, `limo_test_…`) and, in development only, DEV_API_KEY. */
export class AccountKeyAuthenticator implements Authenticator {
  readonly #env: AuthEnv;
  readonly #now: () => number;

  constructor(env: AuthEnv, options: { now?: () => number } = {}) {
    this.#env = env;
    this.#now = options.now ?? Date.now;
  }

  async identify(secret: string, request: Request): Promise<Credential> {
    const token = parseClientToken(secret);
    if (token) {
      return {
        accountId: token.accountId,
        keyHash: await hashApiKey(secret),
        prefix: clientTokenPrefix(secret),
        isDevKey: false,
        origin: request.headers.get("origin"),
        clientToken: true,
      };
    }
    const parsed = parseApiKey(secret);
    const isDevKey = !parsed && (await matchesDevKey(this.#env, secret));
    if (!parsed && !isDevKey) throw invalidApiKey();
    return {
      accountId: parsed ? parsed.accountId : DEV_ACCOUNT_ID,
      keyHash: await hashApiKey(secret),
      prefix: keyPrefix(secret),
      isDevKey,
      origin: request.headers.get("origin"),
    };
  }

  async authorize(credential: Credential): Promise<Principal> {
    const ask = {
      accountId: credential.accountId,
      keyHash: credential.keyHash,
      origin: credential.origin,
      now: this.#now(),
      clientToken: credential.clientToken === true,
    };
    const result = await withDevSeed<AuthorizeResult>(this.#env, credential, async (account) => (await account.authorize(ask)) as AuthorizeResult);
    if (!result.ok) throw refusal(result, credential.accountId);
    return result.principal;
  }
}

/**
 * Runs a call on the credential's account object; when the dev key is not
 * known there yet (first use against this storage), seeds it, hashed, and
 * runs the call again.
 */
export async function withDevSeed<R extends { ok: boolean }>(
  env: AuthEnv,
  credential: Credential,
  call: (account: DurableObjectStub<AccountRpc>) => Promise<R>,
): Promise<R> {
  const account = accountObject(env, credential.accountId);
  const result = await call(account);
  if (result.ok || !credential.isDevKey || !isUnknownKey(result)) return result;
  await seedDevAccount(env, credential.keyHash, credential.prefix);
  return call(account);
}

function isUnknownKey(result: unknown): boolean {
  const r = result as { reason?: string; refusal?: { reason?: string } };
  return r.reason === "unknown_key" || r.refusal?.reason === "unknown_key";
}

/** DEV_API_KEY's SHA-256, worked out once per isolate (and again if the var changes). */
let devKeyDigest: { key: string; digest: ArrayBuffer } | null = null;

/**
 * DEV_API_KEY counts only when ENVIRONMENT is "development"; anywhere else it
 * is just a wrong key. Compares SHA-256 digests in constant time (so neither
 * the content nor the length leaks); the dev key's own digest is kept.
 */
async function matchesDevKey(env: Pick<Env, "ENVIRONMENT" | "DEV_API_KEY">, secret: string): Promise<boolean> {
  const devKey = env.DEV_API_KEY;
  if (env.ENVIRONMENT !== "development" || !devKey) return false;
  if (devKeyDigest?.key !== devKey) devKeyDigest = { key: devKey, digest: await crypto.subtle.digest("SHA-256", encoder.encode(devKey)) };
  const expected = devKeyDigest.digest;
  const presented = await crypto.subtle.digest("SHA-256", encoder.encode(secret));
  return crypto.subtle.timingSafeEqual(presented, expected);
}

export function refusal(result: Extract<AuthorizeResult, { ok: false }>, accountId: string): ApiError {
  // A spent client token is the platform's business, not a sign of a leaked or stale key.
  if (result.reason !== "unknown_key" && result.reason !== "budget") {
    // Operators want to see revoked or expired keys still in use; ids only, never the secret.
    log("info", "api key refused", { accountId, keyId: result.keyId, reason: result.reason });
  }
  if (result.code === "invalid_api_key") return invalidApiKey(result.message);
  if (result.code === "client_token_budget_exceeded") return new ApiError(result.code, result.message, { headers: { "x-should-retry": "false" } });
  return new ApiError(result.code, result.message);
}

export function invalidApiKey(message = "Incorrect API key provided."): ApiError {
  return new ApiError("invalid_api_key", message, { headers: { "www-authenticate": 'Bearer realm="limo"' } });
}

/** Whether the key may use the model with this public id (`limo`, `limo-v2`). */
export function isModelAllowed(principal: Principal, publicModelId: string): boolean {
  return principal.models === null || principal.models.includes(publicModelId);
}

/**
 * Throws the same 404 as an unknown model when the key may not use this one,
 * so a restricted key cannot even learn that the model exists. Call it after
 * resolving the model: `assertModelAllowed(principal, resolved.model.id, request.model)`.
 */
export function assertModelAllowed(principal: Principal, publicModelId: string, requested: string = publicModelId): void {
  if (isModelAllowed(principal, publicModelId)) return;
  throw new ApiError("model_not_found", `The model '${requested}' does not exist or you do not have access to it.`, {
    param: "model",
  });
}
