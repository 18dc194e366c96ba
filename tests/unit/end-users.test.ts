import { describe, expect, it } from "vitest";
import { endUserOf, endUserParam } from "../../worker/accounts/end-users/end-user";
import { checkEndUser, newEndUserState, settleEndUser, takeEndUser } from "../../worker/accounts/end-users/end-user-limits";
import { resolveEndUser, scopedSnapshot } from "../../worker/accounts/end-users/scoped-admission";
import { scopeNeed } from "../../worker/accounts/end-users/scope";
import { budgetSpent, checkTokenBudget, type ClientTokenState } from "../../worker/accounts/client-tokens/client-token-state";
import { generateClientToken, parseClientToken } from "../../worker/accounts/client-tokens/client-token-format";
import { settlement } from "../../worker/accounts/ledger/settlement";

const NOW = Date.UTC(2026, 10, 5, 12);

describe("the end user of a request", () => {
  it("is safety_identifier, else a user of at most 64 characters", () => {
    expect(endUserOf({ safety_identifier: "s", user: "u" })).toBe("s");
    expect(endUserOf({ user: "u" })).toBe("u");
    expect(endUserOf({ user: "u".repeat(64) })).toBe("u".repeat(64));
    expect(endUserOf({ user: "u".repeat(65) })).toBeNull();
    expect(endUserOf({ safety_identifier: null, user: "" })).toBeNull();
    expect(endUserParam({ user: "u" })).toBe("user");
    expect(endUserParam({ safety_identifier: "s", user: "u" })).toBe("safety_identifier");
  });

  it("is a client token's own, and a body naming another is refused", () => {
    expect(resolveEndUser("s1", null, false)).toEqual({ ok: true, endUser: "s1" });
    expect(resolveEndUser("s1", "s1", true)).toEqual({ ok: true, endUser: "s1" });
    expect(resolveEndUser("s1", "s2", false)).toEqual({ ok: false, reason: "mismatch" });
    expect(resolveEndUser(null, null, true)).toEqual({ ok: false, reason: "missing" });
    expect(resolveEndUser(undefined, "s2", true)).toEqual({ ok: true, endUser: "s2" });
  });
});

describe("one end user's limits", () => {
  const limits = { requestsPerMinute: 2, tokensPerDay: 100, maxConcurrent: 1 };
  const none = { count: 0, reservedTokens: 0 };

  it("refuses the third request of a minute and refills with time", () => {
    const state = newEndUserState("s", NOW);
    for (let i = 0; i < 2; i++) {
      expect(checkEndUser(state, limits, none, scopeNeed(1, 1, 1, false), NOW).ok).toBe(true);
      takeEndUser(state);
    }
    const refused = checkEndUser(state, limits, none, scopeNeed(1, 1, 1, false), NOW);
    expect(refused).toMatchObject({ ok: false, code: "end_user_rate_limit_exceeded", snapshot: { requests: { limit: 2, remaining: 0 } } });
    expect(checkEndUser(state, limits, none, scopeNeed(1, 1, 1, false), NOW + 30_000).ok).toBe(true);
  });

  it("counts reservations in flight against concurrency and the day, and real usage once settled", () => {
    const state = newEndUserState("s", NOW);
    expect(checkEndUser(state, limits, { count: 1, reservedTokens: 0 }, scopeNeed(1, 1, 1, false), NOW)).toMatchObject({ code: "end_user_rate_limit_exceeded" });
    expect(checkEndUser(state, limits, { count: 0, reservedTokens: 90 }, scopeNeed(5, 1, 10, false), NOW)).toMatchObject({ code: "end_user_quota_exceeded", shouldRetry: true });
    expect(checkEndUser(state, limits, none, scopeNeed(5, 1, 500, true), NOW)).toEqual({ ok: true, room: 100 });
    expect(checkEndUser(state, limits, none, scopeNeed(5, 1, 500, false), NOW)).toMatchObject({ code: "end_user_quota_exceeded", shouldRetry: false });
    settleEndUser(state, limits, NOW, 60, NOW);
    expect(checkEndUser(state, limits, none, scopeNeed(5, 1, 100, true), NOW)).toEqual({ ok: true, room: 40 });
    // The next UTC day starts from nothing; a request admitted yesterday does not count today.
    const tomorrow = NOW + 86_400_000;
    settleEndUser(state, limits, NOW, 30, tomorrow);
    expect(state.dayUsed).toBe(0);
  });

  it("shows the end user's request figures in the rate-limit headers, the account's tokens", () => {
    const state = newEndUserState("s", NOW);
    checkEndUser(state, limits, none, scopeNeed(1, 1, 1, false), NOW);
    const account = { requests: { limit: 600, remaining: 599, resetMs: 100 }, tokens: { limit: 9, remaining: 9, resetMs: 0 } };
    const shown = scopedSnapshot(account, { endUser: state, endUserLimits: limits, token: null });
    expect(shown).toEqual({ requests: { limit: 2, remaining: 2, resetMs: 0 }, tokens: account.tokens });
    expect(scopedSnapshot(account, { endUser: null, endUserLimits: limits, token: null })).toBe(account);
  });
});

describe("a client token's budget", () => {
  const token: ClientTokenState = {
    id: "ct_1", hash: "h", keyId: "key_1", mode: "live", endUser: "s", models: null, origins: null,
    maxTotalTokens: 100, maxRequests: 2, usedTokens: 0, usedRequests: 0, createdAt: NOW, expiresAt: NOW + 600_000,
  };

  it("reserves tokens like a quota and counts requests exactly", () => {
    expect(checkTokenBudget(token, 0, scopeNeed(10, 1, 200, true), NOW)).toEqual({ ok: true, room: 100 });
    expect(checkTokenBudget(token, 95, scopeNeed(10, 1, 1, true), NOW)).toMatchObject({ ok: false, code: "client_token_budget_exceeded", shouldRetry: true });
    expect(checkTokenBudget({ ...token, usedRequests: 2 }, 0, scopeNeed(1, 1, 1, true), NOW)).toMatchObject({ ok: false, shouldRetry: false });
    expect(budgetSpent({ ...token, usedTokens: 100 }, 0)).toBe(true);
    expect(budgetSpent(token, 99)).toBe(false);
  });
});

describe("the client token format", () => {
  it("routes to its account and carries its mode; a changed character breaks the checksum", () => {
    const live = generateClientToken("acct_0123456789abcdef", "live");
    const test = generateClientToken("acct_0123456789abcdef", "test");
    expect(parseClientToken(live)).toEqual({ mode: "live", accountId: "acct_0123456789abcdef" });
    expect(parseClientToken(test)).toEqual({ mode: "test", accountId: "acct_0123456789abcdef" });
    const flipped = live.slice(0, 20) + (live[20] === "A" ? "B" : "A") + live.slice(21);
    expect(parseClientToken(flipped)).toBeNull();
    expect(parseClientToken(live.replace("limo_ct_", "limo_sk_"))).toBeNull();
  });
});

describe("settlement carries the end user", () => {
  it("onto the usage record", () => {
    const end = { status: "ok" as const, usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }, givenTokens: 4, givenAll: true, cached: false, backend: "sim", firstTokenAt: null };
    const base = { requestId: "r", keyId: "k", mode: "live" as const, model: "limo", promptTokensEstimate: 3, startedAt: NOW };
    expect(settlement({ ...base, endUser: "s" }, end, NOW + 1).endUser).toBe("s");
    expect(settlement(base, end, NOW + 1).endUser).toBeNull();
  });
});
