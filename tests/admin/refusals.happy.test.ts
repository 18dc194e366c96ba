/**
 * Operators see refusals: per account, counters of refused requests by
 * status and code, read at GET /admin/v1/accounts/{id}/refusals. The account
 * object counts its own (401 for a revoked key, 429 by limit) in the call
 * that refused them; the Worker's (400, 404) are batched per isolate.
 */
import { describe, expect, it } from "vitest";
import type { RefusalCount } from "../../shared/refusals";
import { checksum } from "../helpers/admin";
import { limitedAccount } from "../helpers/limits";

async function refusals(acct: Awaited<ReturnType<typeof limitedAccount>>, query = ""): Promise<RefusalCount[]> {
  const res = await acct.a.admin("GET", `/accounts/${acct.accountId}/refusals${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { data: RefusalCount[] }).data;
}

describe("refusal counters", () => {
  it("count 429s by limit, 400s, 404s and a revoked key's 401s; admitted requests count nothing", async () => {
    const acct = await limitedAccount({ requests_per_minute: 2 });
    const ok = await Promise.all([acct.chat({ max_tokens: 2 }), acct.chat({ max_tokens: 2 })]);
    expect(ok.map((r) => r.status)).toEqual([200, 200]);
    await Promise.all(ok.map((r) => r.text()));
    expect(await refusals(acct)).toEqual([]);

    const limited = await Promise.all(Array.from({ length: 3 }, () => acct.chat({ max_tokens: 2 })));
    expect(limited.map((r) => r.status)).toEqual([429, 429, 429]);
    const bad = await Promise.all([acct.chat({ temprature: 0 }), acct.chat({ temprature: 1 }), acct.chat({ model: "gpt-4o" })]);
    expect(bad.map((r) => r.status)).toEqual([400, 400, 404]);

    const keys = (await (await acct.a.admin("GET", `/accounts/${acct.accountId}/keys`)).json()) as { data: { id: string }[] };
    expect((await acct.a.admin("DELETE", `/keys/${keys.data[0]!.id}`)).status).toBe(200);
    expect((await acct.chat({ max_tokens: 2 })).status).toBe(401);

    expect(await refusals(acct)).toEqual([
      { status: 400, code: "unknown_parameter", count: 2 },
      { status: 401, code: "invalid_api_key", count: 1 },
      { status: 404, code: "model_not_found", count: 1 },
      { status: 429, code: "rate_limit_exceeded", count: 3 },
    ]);
    // A range that ended before these requests sees none of them.
    expect(await refusals(acct, "?from=2020-01-01&to=2020-01-02")).toEqual([]);
  });

  it("does not count a made-up key that only names the account", async () => {
    const acct = await limitedAccount();
    // The secret part changed and the checksum fixed: well-formed, routed to this account, not its key.
    const head = acct.key.slice(0, -12) + "zzzzzz";
    const forged = head + checksum(head);
    for (const path of ["/v1/models", "/v1/chat/completions"]) {
      const res = await acct.a.withKey(forged, path, { method: path === "/v1/models" ? "GET" : "POST", body: path === "/v1/models" ? undefined : "{}" });
      expect(res.status).toBe(path === "/v1/models" ? 401 : 400);
    }
    expect(await refusals(acct)).toEqual([]);
    // The account's own key is counted, so the silence above is the forgery's.
    expect((await acct.chat({ temprature: 0 })).status).toBe(400);
    expect(await refusals(acct)).toEqual([{ status: 400, code: "unknown_parameter", count: 1 }]);
  });

  it("answers 404 for an unknown account and 400 for a bad range", async () => {
    const acct = await limitedAccount();
    expect((await acct.a.admin("GET", "/accounts/acct_nope/refusals")).status).toBe(404);
    expect((await acct.a.admin("GET", `/accounts/${acct.accountId}/refusals?from=yesterday`)).status).toBe(400);
    expect((await acct.a.admin("GET", `/accounts/${acct.accountId}/refusals?to=2020-01-01&from=2021-01-01`)).status).toBe(400);
  });
});
