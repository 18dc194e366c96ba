/**
 * @module auth
 * Who is calling. The bearer-auth middleware asks an `Authenticator`; the
 * development one accepts the single DEV_API_KEY. Keys backed by accounts
 * replace it without touching the middleware or the routes.
 */
import { ApiError } from "../errors";
import type { Env } from "../env";

/** The authenticated caller of one request. */
export interface Principal {
  accountId: string;
  keyId: string;
  /** "test" keys never reach a GPU and are never billed. */
  mode: "live" | "test";
}

export interface Authenticator {
  /** Resolves a presented secret to a principal, or throws an ApiError (401/403). */
  authenticate(secret: string, request: Request): Promise<Principal>;
}

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

export const DEV_ACCOUNT_ID = "acct_dev";
export const DEV_KEY_ID = "key_dev";

/** Accepts only DEV_API_KEY, and only in development. */
export class DevKeyAuthenticator implements Authenticator {
  readonly #env: Pick<Env, "ENVIRONMENT" | "DEV_API_KEY">;

  constructor(env: Pick<Env, "ENVIRONMENT" | "DEV_API_KEY">) {
    this.#env = env;
  }

  async authenticate(secret: string): Promise<Principal> {
    const expected = this.#env.ENVIRONMENT === "development" ? this.#env.DEV_API_KEY : undefined;
    if (!expected || !(await timingSafeEqualStrings(secret, expected))) throw invalidApiKey();
    return { accountId: DEV_ACCOUNT_ID, keyId: DEV_KEY_ID, mode: "test" };
  }
}

export function invalidApiKey(message = "Incorrect API key provided."): ApiError {
  return new ApiError("invalid_api_key", message, { headers: { "www-authenticate": 'Bearer realm="limo"' } });
}
