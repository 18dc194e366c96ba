import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { accountStub, adminApi } from "../helpers/admin";
import { hashApiKey } from "../../worker/accounts/keys/key-format";
import { decide, type AccountState, type KeyState } from "../../worker/accounts/account-state";

const account: AccountState = {
  id: "acct_0123456789abcdef",
  status: "active",
  plan: "free",
  limits: { requests_per_minute: null, tokens_per_minute: null, max_concurrent_requests: null, monthly_token_quota: null },
};
const key: KeyState = {
  id: "key_1",
  hash: "h",
  mode: "live",
  expiresAt: null,
  revokedAt: null,
  rotatedTo: null,
  models: null,
  origins: ["https://a.example"],
  lastUsedAt: null,
};
const request = { accountId: account.id, keyHash: "h", origin: null, now: 1_000 };

describe("the authorize decision", () => {
  it("refuses in the documented order: unknown, revoked, expired, suspended, origin", () => {
    expect(decide(account, undefined, request)).toMatchObject({ ok: false, reason: "unknown_key", code: "invalid_api_key" });
    expect(decide(null, key, request)).toMatchObject({ ok: false, reason: "unknown_key" });
    const suspended = { ...account, status: "suspended" as const };
    expect(decide(suspended, { ...key, revokedAt: 1_000 }, request)).toMatchObject({ reason: "revoked" });
    expect(decide(suspended, { ...key, expiresAt: 999 }, request)).toMatchObject({ reason: "expired" });
    expect(decide(suspended, key, { ...request, origin: "https://b.example" })).toMatchObject({ reason: "suspended", code: "account_suspended" });
    expect(decide(account, key, { ...request, origin: "https://b.example" })).toMatchObject({ reason: "origin", code: "origin_not_allowed" });
    expect(decide(account, key, { ...request, origin: "https://a.example" })).toMatchObject({ ok: true });
    expect(decide(account, { ...key, revokedAt: 1_001 }, request)).toMatchObject({ ok: true });
  });
});

describe("the account Durable Object", () => {
  const a = adminApi();

  it("loads an empty object from D1 once, then answers from its own state", async () => {
    const { id: accountId } = await a.createAccount();
    const { key } = await a.createKey(accountId);
    const stub = accountStub(accountId);
    // Simulate a reset: wipe the object's storage and memory; D1 still has the account.
    await runInDurableObject(stub, (_instance, state) => state.storage.deleteAll());
    await evictDurableObject(stub);
    const prepare = vi.spyOn(Object.getPrototypeOf(env.DB) as D1Database, "prepare");
    const keyHash = await hashApiKey(key);
    expect((await stub.authorize({ accountId, keyHash, origin: null, now: Date.now() })).ok).toBe(true);
    const readsForLoad = prepare.mock.calls.length;
    expect(readsForLoad).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) await stub.authorize({ accountId, keyHash, origin: null, now: Date.now() });
    expect(prepare.mock.calls.length).toBe(readsForLoad);
    vi.restoreAllMocks();
  });

  it("never undoes a revocation when it syncs from a D1 that missed it", async () => {
    const { id: accountId } = await a.createAccount();
    const { id, key } = await a.createKey(accountId);
    const stub = accountStub(accountId);
    // A revocation that reached the object but not D1 (a failure in between).
    expect(await stub.revokeKey(accountId, id, Date.now())).toBe(true);
    expect(await stub.sync(accountId)).toBe(true);
    const result = await stub.authorize({ accountId, keyHash: await hashApiKey(key), origin: null, now: Date.now() });
    expect(result).toMatchObject({ ok: false, reason: "revoked" });
  });

  it("keeps no state for an account D1 does not know", async () => {
    const accountId = "acct_ZZZZZZZZZZZZZZZZ";
    const stub = accountStub(accountId);
    expect(await stub.authorize({ accountId, keyHash: "0".repeat(64), origin: null, now: Date.now() })).toMatchObject({ ok: false, reason: "unknown_key" });
    const tables = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT (SELECT COUNT(*) FROM account) + (SELECT COUNT(*) FROM keys) + (SELECT COUNT(*) FROM meta) AS n").one().n,
    );
    expect(tables).toBe(0);
  });
});
