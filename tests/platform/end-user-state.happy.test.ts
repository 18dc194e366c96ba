/**
 * The account object's per-end-user state, driven through its RPC with the
 * clock passed in: bounded storage for thousands of end users, pruned once
 * idle, and reservations of an end user and a client token expired by the
 * alarm exactly as the account's are.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AdmitRequest, AdmitResponse } from "../../worker/accounts/account-rpc";
import type { AccountDO } from "../../worker/accounts/account-do";
import { RESERVATION_TTL_MS } from "../../worker/accounts/account-do";
import { hashApiKey } from "../../worker/accounts/keys/key-format";
import { accountStub } from "../helpers/admin";
import { platform } from "../helpers/platform";

const DAY_MS = 86_400_000;

async function rows(accountId: string, table: "end_users" | "client_tokens"): Promise<number> {
  return runInDurableObject(accountStub(accountId), (_i, state) => state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n);
}

describe("per-end-user state in the account object", () => {
  it("keeps one row per end user for 2,000 students, and prunes them once their day is over", async () => {
    // The account's own limits out of the way: 2,000 requests in two simulated seconds.
    const p = await platform({ requests_per_minute: 3, tokens_per_day: 1_000 }, { limits: { requests_per_minute: null, max_concurrent_requests: null } });
    const stub = accountStub(p.accountId);
    const keyHash = await hashApiKey(p.key);
    const twoDaysAgo = Date.now() - 2 * DAY_MS;
    const ask = (i: number, now: number): AdmitRequest => ({
      accountId: p.accountId, keyHash, origin: null, now, requestId: `req_s${i}`, model: "limo",
      promptTokens: 10, n: 1, maxTokens: 5, maxTokensFlexible: false, endUser: `student-${i}`,
    });
    // Called on the object itself, not over RPC, so 4,000 calls take a moment rather than half a minute.
    const settle = (i: number) => ({ requestId: `req_s${i}`, keyId: "k", model: "limo", backend: "sim", mode: "live" as const, promptTokens: 10, completionTokens: 5, cached: false, status: "ok" as const, ttftMs: 1, durationMs: 2, now: twoDaysAgo + 3000 });
    const admitted = await runInDurableObject(stub, async (instance: AccountDO) => {
      let ok = 0;
      for (let i = 0; i < 2000; i++) {
        if ((await instance.admit(ask(i, twoDaysAgo + i))).ok) ok++;
        await instance.settle(settle(i));
      }
      return ok;
    });
    expect(admitted).toBe(2000);
    expect(await rows(p.accountId, "end_users")).toBe(2000);
    await runDurableObjectAlarm(stub);
    expect(await rows(p.accountId, "end_users")).toBe(0);
    // A pruned student starts afresh: a full bucket and a whole day.
    expect(((await stub.admit({ ...ask(1, Date.now()), requestId: "req_again" })) as AdmitResponse).ok).toBe(true);
    expect(await rows(p.accountId, "end_users")).toBe(1);
  });

  it("expires an end user's and a client token's reservation through the alarm, as fully used", async () => {
    const p = await platform({ max_concurrent_requests: 1, tokens_per_day: 10_000 });
    const minted = await p.mint({ end_user: "student-lost", max_total_tokens: 1_000 });
    const stub = accountStub(p.accountId);
    const admitted = (await stub.admit({
      accountId: p.accountId, keyHash: await hashApiKey(minted.token), clientToken: true, origin: null,
      now: Date.now() - RESERVATION_TTL_MS - 1000, requestId: "req_lost", model: "limo",
      promptTokens: 50, n: 1, maxTokens: 200, maxTokensFlexible: false,
    })) as AdmitResponse;
    expect(admitted.ok).toBe(true);
    // The student's one slot is held.
    expect((await p.withToken(minted.token, { max_tokens: 2 })).status).toBe(429);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const [entry] = await p.ledger();
    expect(entry).toMatchObject({ request_id: "req_lost", status: "timeout", end_user: "student-lost", prompt_tokens: 50, completion_tokens: 200 });
    const used = await runInDurableObject(stub, (_i, state) => state.storage.sql.exec<{ used_tokens: number; used_requests: number }>("SELECT used_tokens, used_requests FROM client_tokens").one());
    expect(used).toEqual({ used_tokens: 250, used_requests: 1 });
    const ok = await p.withToken(minted.token, { max_tokens: 2 });
    expect(ok.status).toBe(200);
    await ok.text();
  });

  it("prunes expired client tokens through the alarm", async () => {
    const p = await platform();
    const minted = await p.mint({ end_user: "s1" });
    await p.mint({ end_user: "s2" });
    await p.expireToken(minted.id, Date.now() - 1);
    await runDurableObjectAlarm(accountStub(p.accountId));
    expect(await rows(p.accountId, "client_tokens")).toBe(1);
  });
});
