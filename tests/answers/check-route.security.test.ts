/**
 * `POST /v1/answers/check` is authenticated by API key and counts against
 * the key's account's requests per minute, and only its own.
 */
import { describe, expect, it } from "vitest";
import { errorOf } from "../helpers/api";
import { limitedAccount } from "../helpers/limits";
import { checkWith } from "./check-route.helpers";

const BODY = { reference: "\\frac{1}{2}", candidates: ["0.5"] };

describe("POST /v1/answers/check: who may call it", () => {
  it("refuses a request without a key, or with an unknown one", async () => {
    const acct = await limitedAccount();
    const none = await acct.a.fetch("/v1/answers/check", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(BODY) });
    expect(none.status).toBe(401);
    expect((await errorOf(none)).code).toBe("invalid_api_key");
    expect((await checkWith(acct.a, `${acct.key.slice(0, -4)}abcd`, BODY)).status).toBe(401);
  });

  it("refuses a revoked key on its next call, with no ledger record", async () => {
    const acct = await limitedAccount();
    const other = await acct.a.createKey(acct.accountId);
    expect((await checkWith(acct.a, other.key, BODY)).status).toBe(200);
    await acct.a.admin("DELETE", `/keys/${other.id}`);
    const res = await checkWith(acct.a, other.key, BODY);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).message).toMatch(/revoked/);
    expect(await acct.settledLedger(1)).toHaveLength(1);
  });

  it("counts against the key's requests per minute (a 429 past it), and another account's are unaffected", async () => {
    const limited = await limitedAccount({ requests_per_minute: 2 });
    const other = await limitedAccount({ requests_per_minute: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await checkWith(limited.a, limited.key, BODY)).status);
    expect(statuses).toEqual([200, 200, 429]);
    const refused = await checkWith(limited.a, limited.key, BODY);
    expect(refused.headers.get("retry-after")).not.toBeNull();
    expect((await errorOf(refused)).code).toBe("rate_limit_exceeded");
    // Checks and generations share the bucket: the account's next chat is refused too.
    expect((await limited.chat({ max_tokens: 5 })).status).toBe(429);
    const fresh = await checkWith(other.a, other.key, BODY);
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect(await limited.settledLedger(2)).toHaveLength(2);
  });
});
