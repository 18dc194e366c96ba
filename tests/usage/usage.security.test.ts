import { describe, expect, it } from "vitest";
import type { UsageRecordList } from "../../shared/usage";
import { adminApi, TEST_ADMIN_TOKEN } from "../helpers/admin";
import { errorOf } from "../helpers/api";
import { limitedAccount } from "../helpers/limits";
import { record, rollUp, usagePage, usageSummary } from "./usage-helpers";

// Long past, so it is never in the current month whenever the tests run.
const NOV_1 = Date.UTC(2020, 10, 1);

describe("admin usage without ADMIN_TOKEN configured", () => {
  const closed = adminApi({ ADMIN_TOKEN: undefined });

  it.each(["", "?format=csv"])("does not exist (404 as any unknown path) for %j", async (query) => {
    const { id } = await adminApi().createAccount("Hidden");
    for (const token of [TEST_ADMIN_TOKEN, "", null]) {
      const res = await closed.admin("GET", `/accounts/${id}/usage${query}`, undefined, token);
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toMatchObject({ code: "not_found" });
    }
  });
});

describe("admin usage with ADMIN_TOKEN configured", () => {
  const a = adminApi();

  it.each(["", "?format=csv"])("refuses a missing or wrong token with 401 for %j, revealing nothing", async (query) => {
    const { id } = await a.createAccount("Guarded");
    await rollUp([record(id)]);
    for (const token of [null, "", "wrong", TEST_ADMIN_TOKEN.slice(0, -1), `${TEST_ADMIN_TOKEN}x`]) {
      const res = await a.admin("GET", `/accounts/${id}/usage${query}`, undefined, token);
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect((await errorOf(res)).code).toBe("invalid_api_key");
    }
  });

  it("does not take an account's API key in place of the admin token", async () => {
    const { id } = await a.createAccount("Self-service?");
    const { key } = await a.createKey(id);
    expect((await a.admin("GET", `/accounts/${id}/usage`, undefined, key)).status).toBe(401);
  });

  it("marks usage answers as not cacheable", async () => {
    const { id } = await a.createAccount("No store");
    expect((await a.admin("GET", `/accounts/${id}/usage`)).headers.get("cache-control")).toBe("no-store");
    expect((await a.admin("GET", `/accounts/${id}/usage?format=csv`)).headers.get("cache-control")).toBe("no-store");
  });
});

describe("GET /v1/usage: a key sees its own account only", () => {
  it("never shows account A's usage to account B's key, whatever the query", async () => {
    const acctA = await limitedAccount();
    const resA = await acctA.chat({ max_tokens: 5 });
    await resA.json();
    const [entryA] = await acctA.settledLedger(1);
    const dayA = new Date(entryA!.created_at).toISOString().slice(0, 10);
    await rollUp([record(acctA.accountId, { created_at: NOV_1 })]);
    const b = acctA.a;
    const { id: idB } = await b.createAccount("B");
    const { key: keyB } = await b.createKey(idB);

    const own = await usageSummary(b, keyB);
    expect(own).toMatchObject({ account_id: idB, data: [], totals: { requests: 0 } });
    expect((await usageSummary(b, keyB, `?from=${dayA}&to=${dayA}`)).data).toEqual([]);
    expect((await usageSummary(b, keyB, "?from=2020-11-01&to=2020-11-30")).data).toEqual([]);
    // No parameter names an account: trying one is a 400, not someone else's usage.
    for (const query of [`?account_id=${acctA.accountId}`, `?account=${acctA.accountId}`]) {
      expect((await b.withKey(keyB, `/v1/usage${query}`)).status).toBe(400);
    }
    // A's key sees A's own usage: today's request and the synthetic November 2020 record.
    expect((await usageSummary(b, acctA.key, `?from=${dayA}&to=${dayA}`)).totals.requests).toBe(1);
    const novA = await usageSummary(b, acctA.key, "?from=2020-11-01&to=2020-11-30");
    expect(novA).toMatchObject({ account_id: acctA.accountId, totals: { requests: 1 } });
    // And the admin view of B has none of A's records.
    const pageB: UsageRecordList = await usagePage(b, idB);
    expect(pageB.data).toEqual([]);
    expect((await usagePage(b, acctA.accountId)).data.every((r) => r.account_id === acctA.accountId)).toBe(true);
  });

  it("refuses missing, malformed, unknown and revoked keys", async () => {
    const a = adminApi();
    const { id } = await a.createAccount("Keys");
    const created = await a.createKey(id);
    expect((await a.fetch("/v1/usage")).status).toBe(401);
    // The key is checked before the query: a bad query tells a stranger nothing.
    expect((await a.fetch("/v1/usage?from=bad&account_id=x")).status).toBe(401);
    expect((await a.withKey("limo_sk_nonsense", "/v1/usage")).status).toBe(401);
    expect((await a.withKey(TEST_ADMIN_TOKEN, "/v1/usage")).status).toBe(401);
    expect((await a.withKey(created.key, "/v1/usage")).status).toBe(200);
    expect((await a.admin("DELETE", `/keys/${created.id}`)).status).toBe(200);
    const revoked = await a.withKey(created.key, "/v1/usage");
    expect(revoked.status).toBe(401);
    expect((await errorOf(revoked)).code).toBe("invalid_api_key");
  });

  it("refuses a suspended account's keys", async () => {
    const a = adminApi();
    const { id } = await a.createAccount("Suspended");
    const { key } = await a.createKey(id);
    expect((await a.admin("PATCH", `/accounts/${id}`, { status: "suspended" })).status).toBe(200);
    const res = await a.withKey(key, "/v1/usage");
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe("account_suspended");
  });
});
