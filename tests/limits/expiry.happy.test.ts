import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashApiKey } from "../../worker/accounts/keys/key-format";
import { RESERVATION_TTL_MS } from "../../worker/accounts/account-do";
import { accountStub } from "../helpers/admin";
import { limitedAccount } from "../helpers/limits";

describe("reservations never settled", () => {
  it("expire through the alarm, settled conservatively, freeing slots and keeping the ledger whole", async () => {
    const acct = await limitedAccount({ max_concurrent_requests: 1, monthly_token_quota: 100_000 });
    const stub = accountStub(acct.accountId);
    // A Worker admitted a request long ago and died before settling it.
    const admitted = await stub.admit({
      accountId: acct.accountId,
      keyHash: await hashApiKey(acct.key),
      origin: null,
      now: Date.now() - RESERVATION_TTL_MS - 1000,
      requestId: "req_lost",
      model: "limo",
      promptTokens: 50,
      n: 1,
      maxTokens: 200,
      maxTokensFlexible: false,
    });
    expect(admitted.ok).toBe(true);
    expect(await stub.inFlight()).toBe(1);
    // Its slot is held: the account's one concurrent request is taken.
    expect((await acct.chat({ max_tokens: 2 })).status).toBe(429);

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.inFlight()).toBe(0);
    const [entry] = await acct.ledger();
    expect(entry).toMatchObject({ request_id: "req_lost", status: "timeout", prompt_tokens: 50, completion_tokens: 200 });
    const ok = await acct.chat({ max_tokens: 2 });
    expect(ok.status).toBe(200);
    await ok.text();
  });

  it("roll up into D1 through the alarm, once", async () => {
    const acct = await limitedAccount();
    for (let i = 0; i < 3; i++) await (await acct.chat({ max_tokens: 3 })).text();
    await acct.settledLedger(3);
    const stub = accountStub(acct.accountId);
    await runDurableObjectAlarm(stub);
    await stub.flushUsage();
    const { results } = await acct.a.env.DB.prepare("SELECT request_id, completion_tokens FROM usage_records WHERE account_id = ?")
      .bind(acct.accountId)
      .all<{ request_id: string; completion_tokens: number }>();
    expect(results).toHaveLength(3);
    const daily = await acct.a.env.DB.prepare("SELECT SUM(requests) AS n, SUM(completion_tokens) AS c FROM usage_daily WHERE account_id = ?")
      .bind(acct.accountId)
      .first<{ n: number; c: number }>();
    expect(daily).toEqual({ n: 3, c: 9 });
  });
});
