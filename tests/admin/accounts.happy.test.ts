import { describe, expect, it } from "vitest";
import type { Account, ListPage } from "../../shared/admin";
import { adminApi } from "../helpers/admin";
import { errorOf } from "../helpers/api";

describe("admin: accounts", () => {
  const a = adminApi();

  it("creates an account and answers 201 with it", async () => {
    const res = await a.admin("POST", "/accounts", { name: "Tutor Co", plan: "pro" });
    expect(res.status).toBe(201);
    const account = (await res.json()) as Account;
    expect(account).toMatchObject({ object: "account", name: "Tutor Co", plan: "pro", status: "active" });
    expect(account.id).toMatch(/^acct_[0-9A-Za-z]{16}$/);
    // The effective limits: the plan's defaults (shared/plans.ts) until overridden.
    expect(account.limits).toEqual({ requests_per_minute: 1_200, tokens_per_minute: 4_000_000, max_concurrent_requests: 64, monthly_token_quota: 500_000_000 });
    expect(account.created_at).toBeGreaterThan(1_700_000_000);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("defaults the plan and accepts a body without a JSON content type", async () => {
    const res = await a.fetch("/admin/v1/accounts", {
      method: "POST",
      headers: { authorization: `Bearer ${a.env.ADMIN_TOKEN}`, "content-type": "text/plain" },
      body: JSON.stringify({ name: "Plain" }),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as Account).plan).toBe("standard");
  });

  it("retrieves an account by id", async () => {
    const created = await a.createAccount("Lookup");
    const res = await a.admin("GET", `/accounts/${created.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(created);
  });

  it("lists accounts newest first, page by page with a cursor", async () => {
    const mine = new Set<string>();
    for (const name of ["p1", "p2", "p3"]) mine.add((await a.createAccount(name)).id);
    const first = (await (await a.admin("GET", "/accounts?limit=2")).json()) as ListPage<Account>;
    expect(first).toMatchObject({ object: "list", has_more: true });
    expect(first.data).toHaveLength(2);
    expect(first.next_cursor).toBe(first.data[1]!.id);
    const second = (await (await a.admin("GET", `/accounts?limit=2&after=${first.next_cursor}`)).json()) as ListPage<Account>;
    const seen = [...first.data, ...second.data].map((x) => x.id);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of mine) expect(seen).toContain(id);
    for (let i = 1; i < seen.length; i++) {
      const [prev, cur] = [first.data.concat(second.data)[i - 1]!, first.data.concat(second.data)[i]!];
      expect(prev.created_at).toBeGreaterThanOrEqual(cur.created_at);
    }
  });

  it("updates name, plan and limits; null removes a limit and absent ones stay", async () => {
    const { id } = await a.createAccount("Before");
    let res = await a.admin("PATCH", `/accounts/${id}`, { name: "After", plan: "free", limits: { requests_per_minute: 60, monthly_token_quota: 1_000_000 } });
    expect(res.status).toBe(200);
    // Overrides replace the free plan's 20 rpm and 2M tokens; the rest follow the plan.
    expect(await res.json()).toMatchObject({ name: "After", plan: "free", limits: { requests_per_minute: 60, monthly_token_quota: 1_000_000, tokens_per_minute: 200_000 } });
    res = await a.admin("PATCH", `/accounts/${id}`, { limits: { requests_per_minute: null } });
    const after = (await res.json()) as Account;
    expect(after.limits).toMatchObject({ requests_per_minute: null, monthly_token_quota: 1_000_000 });
    expect(((await (await a.admin("GET", `/accounts/${id}`)).json()) as Account).limits.monthly_token_quota).toBe(1_000_000);
  });

  it("refuses an unknown plan", async () => {
    const { id } = await a.createAccount("Plans");
    const res = await a.admin("PATCH", `/accounts/${id}`, { plan: "platinum" });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_value", param: "plan" });
  });

  it("suspends an account: its keys get 403 on the next request; reactivating restores them", async () => {
    const { id } = await a.createAccount("Suspend me");
    const { key } = await a.createKey(id);
    expect((await a.withKey(key, "/v1/models")).status).toBe(200);

    expect((await a.admin("PATCH", `/accounts/${id}`, { status: "suspended" })).status).toBe(200);
    const refused = await a.withKey(key, "/v1/models");
    expect(refused.status).toBe(403);
    expect(await errorOf(refused)).toMatchObject({ code: "account_suspended" });

    expect((await a.admin("PATCH", `/accounts/${id}`, { status: "active" })).status).toBe(200);
    expect((await a.withKey(key, "/v1/models")).status).toBe(200);
  });
});
