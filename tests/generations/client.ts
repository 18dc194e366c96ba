/**
 * @module generations/client
 * A limited account's key against its simulator, with a reconnect grace long
 * enough that a test's own resume never races it (the suite default is 300 ms).
 */
import type { Env } from "../../worker/env";
import { adminApi } from "../helpers/admin";
import { simBackends } from "../helpers/api";
import type { LimitedAccount } from "../helpers/limits";

/** Far above the time a test takes to reconnect, in ms. */
const LONG_GRACE_MS = "30000";

export interface GenerationsClient {
  chat(body: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  post(path: string): Promise<Response>;
}

export function generationsClient(acct: LimitedAccount, overrides: Partial<Env> = { GENERATION_GRACE_MS: LONG_GRACE_MS }): GenerationsClient {
  const a = adminApi({ BACKENDS: simBackends(acct.sim.url), ...overrides });
  return {
    chat: (body, headers = {}) =>
      a.withKey(acct.key, "/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "limo", ...body }),
      }),
    get: (path, headers = {}) => a.withKey(acct.key, path, { headers }),
    post: (path) => a.withKey(acct.key, path, { method: "POST" }),
  };
}
