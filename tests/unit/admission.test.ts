import { describe, expect, it } from "vitest";
import { admit, expire, newAdmissionState, nextExpiry, settle, type AdmitAsk, type EffectiveLimits } from "../../worker/accounts/limits/admission";
import { formatResetDuration } from "../../worker/accounts/limits/token-bucket";

const NONE: EffectiveLimits = { requestsPerMinute: null, tokensPerMinute: null, maxConcurrent: null, monthlyTokenQuota: null };
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
let seq = 0;
const ask = (extra: Partial<AdmitAsk> = {}): AdmitAsk => ({
  requestId: `req_${++seq}`,
  keyId: "key_a",
  model: "limo",
  mode: "live",
  promptTokens: 10,
  n: 1,
  maxTokens: 100,
  maxTokensFlexible: false,
  now: T0,
  ttlMs: 60_000,
  ...extra,
});

describe("admission", () => {
  it("admits exactly L of N requests against L per minute, then refills", () => {
    const limits = { ...NONE, requestsPerMinute: 10 };
    const state = newAdmissionState(T0);
    const results = Array.from({ length: 40 }, () => admit(state, limits, ask()));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    const refused = results.find((r) => !r.ok)!;
    expect(refused).toMatchObject({ ok: false, code: "rate_limit_exceeded", shouldRetry: true });
    if (!refused.ok) {
      expect(refused.snapshot.requests).toMatchObject({ limit: 10, remaining: 0 });
      expect(refused.retryAfterMs).toBe(6000);
    }
    expect(admit(state, limits, ask({ now: T0 + 6000 })).ok).toBe(true);
    expect(admit(state, limits, ask({ now: T0 + 6000 })).ok).toBe(false);
  });

  it("holds concurrency to C and frees a slot on settle", () => {
    const limits = { ...NONE, maxConcurrent: 3 };
    const state = newAdmissionState(T0);
    const admitted = Array.from({ length: 5 }, () => admit(state, limits, ask())).filter((r) => r.ok);
    expect(admitted).toHaveLength(3);
    settle(state, limits, admitted[0]!.ok ? admitted[0]!.reservation.requestId : "", { promptTokens: 1, completionTokens: 1 }, T0, "live");
    expect(admit(state, limits, ask()).ok).toBe(true);
    expect(admit(state, limits, ask()).ok).toBe(false);
  });

  it("never lets concurrent reservations take the quota below zero", () => {
    const limits = { ...NONE, monthlyTokenQuota: 3000 };
    const state = newAdmissionState(T0);
    const results = Array.from({ length: 20 }, () => admit(state, limits, ask({ promptTokens: 20, maxTokens: 400 })));
    const ok = results.filter((r) => r.ok);
    expect(ok).toHaveLength(Math.floor(3000 / 420));
    const refused = results.find((r) => !r.ok)!;
    expect(refused).toMatchObject({ code: "insufficient_quota", shouldRetry: true });
    for (const r of ok) if (r.ok) settle(state, limits, r.reservation.requestId, { promptTokens: 15, completionTokens: 100 }, T0, "live");
    expect(state.monthUsed).toBe(ok.length * 115);
    const more = Array.from({ length: 20 }, () => admit(state, limits, ask({ promptTokens: 20, maxTokens: 400 })));
    expect(more.filter((r) => r.ok).length).toBe(Math.floor((3000 - state.monthUsed) / 420));
  });

  it("refuses with shouldRetry false and waits for next month once the quota is spent", () => {
    const limits = { ...NONE, monthlyTokenQuota: 100 };
    const state = newAdmissionState(T0);
    state.monthUsed = 100;
    const r = admit(state, limits, ask());
    expect(r).toMatchObject({ ok: false, code: "insufficient_quota", shouldRetry: false });
    if (!r.ok) expect(r.retryAfterMs).toBeGreaterThan(24 * 3600 * 1000);
    const nextMonth = Date.UTC(2026, 11, 1, 0, 0, 1);
    expect(admit(state, limits, ask({ now: nextMonth, maxTokens: 50 })).ok).toBe(true);
  });

  it("lowers a flexible max_tokens to what the quota and token rate leave", () => {
    const state = newAdmissionState(T0);
    const r = admit(state, { ...NONE, monthlyTokenQuota: 1000, tokensPerMinute: 5000 }, ask({ maxTokens: 30_000, maxTokensFlexible: true, n: 2 }));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.maxTokens).toBe(495);
      expect(r.reservation.completionTokens).toBe(990);
    }
  });

  it("refuses a fixed request larger than the token rate, without retry", () => {
    const state = newAdmissionState(T0);
    const r = admit(state, { ...NONE, tokensPerMinute: 50 }, ask({ maxTokens: 100 }));
    expect(r).toMatchObject({ ok: false, code: "rate_limit_exceeded", shouldRetry: false });
  });

  it("refunds unused reserved tokens to the token bucket", () => {
    const limits = { ...NONE, tokensPerMinute: 1000 };
    const state = newAdmissionState(T0);
    const r = admit(state, limits, ask({ maxTokens: 500 }));
    expect(state.tokens!.level).toBe(490);
    if (r.ok) settle(state, limits, r.reservation.requestId, { promptTokens: 10, completionTokens: 40 }, T0, "live");
    expect(state.tokens!.level).toBe(950);
  });

  it("does not count test keys against the quota", () => {
    const limits = { ...NONE, monthlyTokenQuota: 10 };
    const state = newAdmissionState(T0);
    const r = admit(state, limits, ask({ mode: "test" }));
    expect(r.ok).toBe(true);
    if (r.ok) settle(state, limits, r.reservation.requestId, { promptTokens: 10, completionTokens: 100 }, T0, "test");
    expect(state.monthUsed).toBe(0);
  });

  it("expires unsettled reservations as fully used, freeing their slots", () => {
    const limits = { ...NONE, maxConcurrent: 1, monthlyTokenQuota: 10_000 };
    const state = newAdmissionState(T0);
    expect(admit(state, limits, ask()).ok).toBe(true);
    expect(nextExpiry(state)).toBe(T0 + 60_000);
    expect(expire(state, limits, T0 + 59_999)).toHaveLength(0);
    const expired = expire(state, limits, T0 + 60_000);
    expect(expired).toHaveLength(1);
    expect(state.monthUsed).toBe(110);
    expect(state.inFlight.size).toBe(0);
    expect(admit(state, limits, ask({ now: T0 + 60_000 })).ok).toBe(true);
  });

  it("formats reset durations as OpenAI does", () => {
    expect(formatResetDuration(0)).toBe("0s");
    expect(formatResetDuration(250)).toBe("250ms");
    expect(formatResetDuration(6000)).toBe("6s");
    expect(formatResetDuration(360_000)).toBe("6m0s");
    expect(formatResetDuration(3_723_000)).toBe("1h2m3s");
  });
});
