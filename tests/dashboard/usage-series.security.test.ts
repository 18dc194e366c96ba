import { describe, expect, it } from "vitest";
import type { AccountUsageSeries } from "../../shared/usage-series";
import { adminApi, TEST_ADMIN_TOKEN } from "../helpers/admin";
import { errorOf, tamper } from "../helpers/api";
import { record, rollUp } from "../usage/usage-helpers";
import { keySeries } from "./series-helpers";

const a = adminApi();
const DAY = { from: "2021-06-01", to: "2021-06-02", bucket: "hour" };
const NOON = Date.UTC(2021, 5, 1, 12);

/** Two accounts with traffic in the same hour, and a key of each. */
async function twoAccounts() {
  const mine = await a.createAccount("Mine");
  const theirs = await a.createAccount("Theirs <script>alert(1)</script>");
  await rollUp([record(mine.id, { created_at: NOON, prompt_tokens: 1, completion_tokens: 2 }), ...Array.from({ length: 5 }, () => record(theirs.id, { created_at: NOON, completion_tokens: 1000 }))]);
  return { mine, theirs, myKey: (await a.createKey(mine.id)).key, theirKey: (await a.createKey(theirs.id)).key };
}

describe("usage series: a key holder sees its own account only", () => {
  it("answers a key with its own account's numbers, never another's in the same hour", async () => {
    const { mine, theirs, myKey } = await twoAccounts();
    const series = await keySeries(a, myKey, DAY);
    expect(series.account).toEqual({ id: mine.id, name: "Mine" });
    expect(series.totals).toMatchObject({ requests: 1, prompt_tokens: 1, completion_tokens: 2 });
    expect(JSON.stringify(series)).not.toContain(theirs.id);
    expect(JSON.stringify(series)).not.toContain("Theirs");
  });

  it("has no way to name another account: a parameter for it is a 400, the admin routes refuse the key", async () => {
    const { theirs, myKey } = await twoAccounts();
    const named = await a.withKey(myKey, `/v1/usage/series?account_id=${theirs.id}`);
    expect(named.status).toBe(400);
    for (const path of [`/admin/v1/accounts/${theirs.id}/usage/series`, "/admin/v1/usage/series"]) {
      const res = await a.withKey(myKey, path);
      expect(res.status, path).toBe(401);
      expect((await errorOf(res)).code).toBe("invalid_api_key");
    }
  });

  it("refuses a missing, malformed, unknown or revoked key with a 401 that reveals nothing", async () => {
    const { mine, myKey } = await twoAccounts();
    const { id: keyId, key: revoked } = await a.createKey(mine.id);
    expect((await a.admin("DELETE", `/keys/${keyId}`)).status).toBe(200);
    for (const key of ["", "nonsense", tamper(myKey), revoked, TEST_ADMIN_TOKEN]) {
      const res = key === "" ? await a.fetch("/v1/usage/series") : await a.withKey(key, "/v1/usage/series");
      expect(res.status, key).toBe(401);
      const text = await res.text();
      expect(text).not.toContain(mine.id);
      expect(text).not.toContain("Mine");
    }
  });

  it("stops answering a suspended account's key", async () => {
    const { mine, myKey } = await twoAccounts();
    expect((await a.admin("PATCH", `/accounts/${mine.id}`, { status: "suspended" })).status).toBe(200);
    const res = await a.withKey(myKey, "/v1/usage/series");
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe("account_suspended");
  });
});

describe("usage series: the operator's routes", () => {
  it.each([`/accounts/ACCOUNT/usage/series`, "/usage/series"])("refuses %s without the right admin token", async (path) => {
    const { theirs } = await twoAccounts();
    for (const token of [null, "", "wrong", `${TEST_ADMIN_TOKEN}x`]) {
      const res = await a.admin("GET", path.replace("ACCOUNT", theirs.id), undefined, token);
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain("Theirs");
    }
  });

  it("does not exist without ADMIN_TOKEN configured (404 like any unknown path)", async () => {
    const closed = adminApi({ ADMIN_TOKEN: undefined });
    const { theirs } = await twoAccounts();
    for (const path of [`/accounts/${theirs.id}/usage/series`, "/usage/series"]) {
      const res = await closed.admin("GET", path, undefined, TEST_ADMIN_TOKEN);
      expect(res.status).toBe(404);
    }
  });

  it("returns a hostile account name as JSON data, exactly as stored", async () => {
    const { theirs } = await twoAccounts();
    const res = await a.admin("GET", `/accounts/${theirs.id}/usage/series?from=${DAY.from}&to=${DAY.to}`);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(((await res.json()) as AccountUsageSeries).account.name).toBe("Theirs <script>alert(1)</script>");
  });
});
