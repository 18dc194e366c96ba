/**
 * @module helpers/admin
 * Drives the admin API in-process (inside workerd, real D1 and Durable
 * Objects) and calls the public API with the keys it creates.
 */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { Account, CreatedApiKey, CreateKeyRequest } from "../../shared/admin";
import type { Env } from "../../worker/env";
import { accountObject } from "../../worker/accounts/account-rpc";
import { api, type Api } from "./api";

/** The admin token these tests configure; never a real deployment's. */
export const TEST_ADMIN_TOKEN = "limo_admin_test_token_0123456789abcdef";

export interface AdminApi extends Api {
  /** Calls `/admin/v1{path}` with the admin token (or `token`, or none when null). */
  admin(method: string, path: string, body?: unknown, token?: string | null): Promise<Response>;
  createAccount(name?: string): Promise<Account>;
  createKey(accountId: string, body?: CreateKeyRequest): Promise<CreatedApiKey>;
  /** Calls the public API with `key`. */
  withKey(key: string, path: string, init?: RequestInit): Promise<Response>;
}

export function adminApi(overrides: Partial<Env> = {}): AdminApi {
  const a = api({ ADMIN_TOKEN: TEST_ADMIN_TOKEN, ...overrides });
  const admin: AdminApi["admin"] = (method, path, body, token = TEST_ADMIN_TOKEN) => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    return a.fetch(`/admin/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  };
  return {
    ...a,
    admin,
    async createAccount(name = "Test account") {
      const res = await admin("POST", "/accounts", { name });
      expect(res.status).toBe(201);
      return (await res.json()) as Account;
    },
    async createKey(accountId, body = {}) {
      const res = await admin("POST", `/accounts/${accountId}/keys`, body);
      expect(res.status, await res.clone().text()).toBe(201);
      return (await res.json()) as CreatedApiKey;
    },
    withKey(key, path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${key}`);
      return a.fetch(path, { ...init, headers });
    },
  };
}

/** The stub of an account's Durable Object, for runInDurableObject and direct RPC. */
export function accountStub(accountId: string) {
  return accountObject(env, accountId);
}

/** Every row of every table of the D1 database, as one string to search. */
export async function dumpD1(): Promise<string> {
  const { results } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf%'").all<{ name: string }>();
  const dump: Record<string, unknown[]> = {};
  for (const { name } of results) dump[name] = (await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results;
  return JSON.stringify(dump);
}

/** A well-formed key body with its checksum recomputed: what a forger could build offline. */
export { checksum } from "../../worker/accounts/keys/key-format";
