import { describe, expect, it } from "vitest";
import { adminApi } from "../helpers/admin";
import { errorOf } from "../helpers/api";
import { record, rollUp } from "../usage/usage-helpers";

const a = adminApi();

describe("usage series: bad queries are 400s in OpenAI's envelope naming the parameter", () => {
  it.each([
    ["tz=Mars%2FOlympus", "tz"],
    ["tz=", "tz"],
    ["bucket=week", "bucket"],
    ["bucket=minute&from=2021-01-01&to=2021-02-01", "bucket"],
    ["bucket=5min&from=2021-01-01&to=2021-01-05", "bucket"],
    ["from=2021-02-01&to=2021-01-01", "to"],
    ["from=2021-01-01&to=2021-01-01", "to"],
    ["from=yesterday", "from"],
    ["to=2021-02-30", "to"],
    ["from=99999999999999", "from"],
    ["account_id=acct_other", "account_id"],
    ["limit=10", "limit"],
  ])("%s", async (query, param) => {
    const { id } = await a.createAccount("Bad queries");
    const { key } = await a.createKey(id);
    for (const res of [
      await a.admin("GET", `/accounts/${id}/usage/series?${query}`),
      await a.admin("GET", `/usage/series?${query}`),
      await a.withKey(key, `/v1/usage/series?${query}`),
    ]) {
      expect(res.status, res.url).toBe(400);
      expect(res.headers.get("x-request-id")).toBeTruthy();
      const error = await errorOf(res);
      expect(error.type).toBe("invalid_request_error");
      expect(error.param ?? error.message, error.message).toContain(param);
    }
  });

  it("answers an unknown account with a 404 in OpenAI's envelope", async () => {
    const res = await a.admin("GET", "/accounts/acct_0000000000000000/usage/series");
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "not_found", param: "id" });
  });

  it("allows a thousand buckets and refuses the thousand and first", async () => {
    const { id } = await a.createAccount("Many buckets");
    await rollUp([record(id, { created_at: Date.UTC(2020, 0, 1, 12) })]);
    const ok = await a.admin("GET", `/accounts/${id}/usage/series?bucket=hour&from=2020-01-01&to=${Date.UTC(2020, 0, 1) / 1000 + 1000 * 3600}`);
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(((await ok.json()) as { t: number[] }).t).toHaveLength(1000);
    const tooMany = await a.admin("GET", `/accounts/${id}/usage/series?bucket=hour&from=2020-01-01&to=${Date.UTC(2020, 0, 1) / 1000 + 1000 * 3600 + 1}`);
    expect(tooMany.status).toBe(400);
    expect((await errorOf(tooMany)).param).toBe("bucket");
  });
});
