import { describe, expect, it } from "vitest";
import type { ChatCompletion } from "../../shared/openai";
import { platform } from "../helpers/platform";
import { jsonChunks, readEvents } from "../helpers/sse";

const PAGE = "https://tutor.example";

describe("client tokens", () => {
  it("mints a token that streams a chat completion from its page's origin, as its end user", async () => {
    const p = await platform();
    const before = Date.now();
    const minted = await p.mint({ end_user: "student-42", origins: [PAGE], models: ["limo"], max_total_tokens: 50_000, max_requests: 100 });
    expect(minted).toMatchObject({ object: "client_token", mode: "live", end_user: "student-42", models: ["limo"], origins: [PAGE], max_requests: 100 });
    expect(minted.token).toMatch(/^limo_ct_[0-9A-Za-z]{65}$/);
    // The default life is ten minutes.
    expect(minted.expires_at).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 599);
    expect(minted.expires_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 600);

    const res = await p.withToken(minted.token, { stream: true, max_tokens: 8, stream_options: { include_usage: true } }, PAGE);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const events = await readEvents(res);
    expect(events.data.at(-1)).toBe("[DONE]");
    const usage = jsonChunks<{ usage?: { completion_tokens: number } | null }>(events).at(-1)?.usage;
    expect(usage?.completion_tokens).toBe(8);
    // The same end user in the body is fine.
    const json = await p.withToken(minted.token, { max_tokens: 4, safety_identifier: "student-42" }, PAGE);
    expect(((await json.json()) as ChatCompletion).usage.completion_tokens).toBe(4);
    const ledger = await p.settledLedger(2);
    expect(ledger.map((e) => e.end_user)).toEqual(["student-42", "student-42"]);
  });

  it("lists models and counts against the end user's limits like the key's own requests", async () => {
    const p = await platform({ requests_per_minute: 2 });
    const { token } = await p.mint({ end_user: "student-7" });
    const models = await p.a.withKey(token, "/v1/models");
    expect(models.status).toBe(200);
    expect((await p.student("student-7", { max_tokens: 2 })).status).toBe(200);
    expect((await p.withToken(token, { max_tokens: 2 })).status).toBe(200);
    const third = await p.withToken(token, { max_tokens: 2 });
    expect(third.status).toBe(429);
    expect(third.headers.get("x-ratelimit-limit-requests")).toBe("2");
    // Another student of the same account is unaffected.
    const other = await p.mint({ end_user: "student-8" });
    expect((await p.withToken(other.token, { max_tokens: 2 })).status).toBe(200);
  });

  it("checks a student's answer with POST /v1/answers/check, as its end user and within max_requests", async () => {
    const p = await platform();
    const { token } = await p.mint({ end_user: "student-c", origins: [PAGE], max_requests: 1 });
    const check = () =>
      p.a.withKey(token, "/v1/answers/check", {
        method: "POST",
        headers: { "content-type": "application/json", origin: PAGE },
        body: JSON.stringify({ reference: "\\frac{1}{2}", candidates: ["0.5", "3"] }),
      });
    const res = await check();
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { equivalent: boolean | null }[] };
    expect(body.results.map((r) => r.equivalent)).toEqual([true, false]);
    // The token's one request is spent: the next check is refused.
    expect((await check()).status).toBe(429);
    const [entry] = await p.settledLedger(1);
    expect(entry).toMatchObject({ model: "answers.check", end_user: "student-c", prompt_tokens: 0, completion_tokens: 0 });
  });

  it("a test key mints test tokens, which never bill", async () => {
    const p = await platform();
    const testKey = await p.a.createKey(p.accountId, { mode: "test" });
    const minted = await p.mint({ end_user: "student-t", expires_in_seconds: 10 }, testKey.key);
    expect(minted.mode).toBe("test");
    expect(minted.token).toMatch(/^limo_ct_test_[0-9A-Za-z]{65}$/);
    expect((await p.withToken(minted.token, { max_tokens: 2 })).status).toBe(200);
    const [entry] = await p.settledLedger(1);
    expect(entry).toMatchObject({ mode: "test", cost_micro_usd: 0, end_user: "student-t", key_id: testKey.id });
  });

  it("spends max_requests exactly under 50 concurrent requests", async () => {
    const p = await platform();
    const { token } = await p.mint({ end_user: "student-b", max_requests: 3 });
    const responses = await Promise.all(Array.from({ length: 50 }, () => p.withToken(token, { max_tokens: 2 })));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(3);
    expect(responses.filter((r) => r.status === 429)).toHaveLength(47);
    await Promise.all(responses.map((r) => r.text()));
    expect(await p.settledLedger(3)).toHaveLength(3);
  });

  it("never spends past max_total_tokens under 50 concurrent requests", async () => {
    const p = await platform();
    const { token } = await p.mint({ end_user: "student-c", max_total_tokens: 500 });
    const responses = await Promise.all(Array.from({ length: 50 }, () => p.withToken(token, { max_tokens: 40 })));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length).toBeLessThan(50);
    await Promise.all(responses.map((r) => r.text()));
    const ledger = await p.settledLedger(ok.length);
    expect(ledger.reduce((sum, e) => sum + e.prompt_tokens + e.completion_tokens, 0)).toBeLessThanOrEqual(500);
  });
});
