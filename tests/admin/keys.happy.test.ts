import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ApiKey, ListPage, RotatedApiKey } from "../../shared/admin";
import { accountStub, adminApi } from "../helpers/admin";
import { errorOf } from "../helpers/api";
import { pollUntil } from "../helpers/sim";
import { hashApiKey } from "../../worker/accounts/keys/key-format";

describe("admin: API keys", () => {
  const a = adminApi();

  it("creates a live key shown once, which works at once", async () => {
    const { id: accountId } = await a.createAccount();
    const created = await a.createKey(accountId, { name: "tutor bot" });
    expect(created.key).toMatch(/^limo_sk_[0-9A-Za-z]{65}$/);
    expect(created).toMatchObject({ object: "api_key", account_id: accountId, name: "tutor bot", mode: "live", status: "active", revoked_at: null });
    expect(created.id).toMatch(/^key_[0-9A-Za-z]{16}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created.prefix.length).toBe(16);
    expect((await a.withKey(created.key, "/v1/models")).status).toBe(200);
  });

  it("creates a test-mode key whose principal is in test mode", async () => {
    const { id: accountId } = await a.createAccount();
    const created = await a.createKey(accountId, { mode: "test" });
    expect(created.key).toMatch(/^limo_test_/);
    expect(created.mode).toBe("test");
    expect((await a.withKey(created.key, "/v1/models")).status).toBe(200);
    const result = await accountStub(accountId).authorize({ accountId, keyHash: await hashApiKey(created.key), origin: null, now: Date.now() });
    expect(result).toMatchObject({ ok: true, principal: { accountId, keyId: created.id, mode: "test", models: null } });
  });

  it("lists an account's keys newest first, without secrets", async () => {
    const { id: accountId } = await a.createAccount();
    const k1 = await a.createKey(accountId, { name: "one" });
    const k2 = await a.createKey(accountId, { name: "two" });
    const res = await a.admin("GET", `/accounts/${accountId}/keys`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(k1.key);
    expect(text).not.toContain(k2.key);
    const page = JSON.parse(text) as ListPage<ApiKey>;
    expect(page.has_more).toBe(false);
    expect(page.data.map((k) => k.id).sort()).toEqual([k1.id, k2.id].sort());
    expect(page.data[0]).not.toHaveProperty("key");
    const one = (await (await a.admin("GET", `/accounts/${accountId}/keys?limit=1`)).json()) as ListPage<ApiKey>;
    expect(one).toMatchObject({ has_more: true, next_cursor: one.data[0]!.id });
  });

  it("revokes a key: the very next request is a 401 that says it was revoked", async () => {
    const { id: accountId } = await a.createAccount();
    const { id, key } = await a.createKey(accountId);
    expect((await a.withKey(key, "/v1/models")).status).toBe(200);
    const res = await a.admin("DELETE", `/keys/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, status: "revoked" });
    const refused = await a.withKey(key, "/v1/models");
    expect(refused.status).toBe(401);
    const error = await errorOf(refused);
    expect(error.code).toBe("invalid_api_key");
    expect(error.message).toMatch(/revoked/);
    // Idempotent.
    expect((await a.admin("DELETE", `/keys/${id}`)).status).toBe(200);
  });

  it("rotates a key: the new one works, the old one during the grace only", async () => {
    const { id: accountId } = await a.createAccount();
    const old = await a.createKey(accountId, { name: "rotating", models: ["limo"] });
    const res = await a.admin("POST", `/keys/${old.id}/rotate`, { grace_seconds: 1 });
    expect(res.status).toBe(201);
    const rotated = (await res.json()) as RotatedApiKey;
    expect(rotated).toMatchObject({ rotated_from: old.id, name: "rotating", models: ["limo"], mode: "live" });
    expect(rotated.key).not.toBe(old.key);
    expect((await a.withKey(rotated.key, "/v1/models")).status).toBe(200);
    expect((await a.withKey(old.key, "/v1/models")).status).toBe(200);
    // Bounded poll: the grace is one second.
    const after = await pollUntil(() => a.withKey(old.key, "/v1/models"), (r) => r.status !== 200, 5_000);
    expect(after.status).toBe(401);
    expect((await errorOf(after)).message).toMatch(/rotated/);
    expect((await a.withKey(rotated.key, "/v1/models")).status).toBe(200);
  });

  it("rotation grace and expiry follow the time the hot path is given", async () => {
    const { id: accountId } = await a.createAccount();
    const now = Date.now();
    const expiring = await a.createKey(accountId, { expires_at: Math.floor(now / 1000) + 3600 });
    const old = await a.createKey(accountId);
    const rotated = (await (await a.admin("POST", `/keys/${old.id}/rotate`, { grace_seconds: 300 })).json()) as RotatedApiKey;
    const stub = accountStub(accountId);
    const at = async (key: string, t: number) => stub.authorize({ accountId, keyHash: await hashApiKey(key), origin: null, now: t });
    expect((await at(old.key, now + 299_000)).ok).toBe(true);
    expect(await at(old.key, now + 301_000)).toMatchObject({ ok: false, reason: "rotated" });
    expect((await at(rotated.key, now + 301_000)).ok).toBe(true);
    expect((await at(expiring.key, now + 3_599_000)).ok).toBe(true);
    expect(await at(expiring.key, now + 3_601_000)).toMatchObject({ ok: false, code: "invalid_api_key", reason: "expired", message: expect.stringMatching(/expired/) });
  });

  it("limits a key to some models: others are 404 as if they did not exist", async () => {
    const { id: accountId } = await a.createAccount();
    const { key } = await a.createKey(accountId, { models: ["GAIR/LIMO"] });
    const list = (await (await a.withKey(key, "/v1/models")).json()) as { data: { id: string }[] };
    expect(list.data.map((m) => m.id)).toEqual(["limo"]);
    expect((await a.withKey(key, "/v1/models/limo")).status).toBe(200);
    const hidden = await a.withKey(key, "/v1/models/limo-v2");
    const unknown = await a.withKey(key, "/v1/models/no-such-model");
    expect(hidden.status).toBe(404);
    const [h, u] = [await errorOf(hidden), await errorOf(unknown)];
    expect(h).toMatchObject({ code: "model_not_found", type: u.type, param: u.param });
    expect(h.message.replace("limo-v2", "X")).toBe(u.message.replace("no-such-model", "X"));
  });

  it("limits a key to browser origins, and answers CORS preflights without a key", async () => {
    const { id: accountId } = await a.createAccount();
    const { key } = await a.createKey(accountId, { origins: ["https://app.example.com"] });
    const allowed = await a.withKey(key, "/v1/models", { headers: { origin: "https://app.example.com" } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("*");
    const refused = await a.withKey(key, "/v1/models", { headers: { origin: "https://evil.example.com" } });
    expect(refused.status).toBe(403);
    expect(await errorOf(refused)).toMatchObject({ code: "origin_not_allowed" });
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
    // Server-side callers send no Origin.
    expect((await a.withKey(key, "/v1/models")).status).toBe(200);

    const preflight = await a.fetch("/v1/chat/completions", {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
  });

  it("records last use in the object and flushes it to D1 from the alarm", async () => {
    const { id: accountId } = await a.createAccount();
    const { id, key } = await a.createKey(accountId);
    await a.withKey(key, "/v1/models");
    await a.withKey(key, "/v1/models");
    expect(await runDurableObjectAlarm(accountStub(accountId))).toBe(true);
    const page = (await (await a.admin("GET", `/accounts/${accountId}/keys`)).json()) as ListPage<ApiKey>;
    const listed = page.data.find((k) => k.id === id)!;
    expect(listed.last_used_at).toBeGreaterThan(1_700_000_000);
  });
});
