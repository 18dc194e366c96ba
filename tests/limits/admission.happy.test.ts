import { describe, expect, it } from "vitest";
import type { ChatCompletion } from "../../shared/openai";
import { errorOf } from "../helpers/api";
import { limitedAccount } from "../helpers/limits";
import { pollUntil } from "../helpers/sim";
import { readEvents } from "../helpers/sse";

describe("limits under concurrency", () => {
  it("admits exactly 10 of 100 concurrent requests against 10 per minute", async () => {
    const acct = await limitedAccount({ requests_per_minute: 10 });
    const responses = await Promise.all(Array.from({ length: 100 }, () => acct.chat({ max_tokens: 4 })));
    const ok = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(10);
    expect(limited).toHaveLength(90);
    for (const res of limited.slice(0, 5)) {
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("0");
      expect(res.headers.get("x-ratelimit-limit-requests")).toBe("10");
      expect(res.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(ms|s|m\d+s)$/);
      expect(await errorOf(res)).toMatchObject({ code: "rate_limit_exceeded", type: "requests" });
    }
    await Promise.all(ok.map((r) => r.text()));
    expect((await acct.settledLedger(10)).length).toBe(10);
    expect((await acct.sim.stats()).requests_total).toBe(10);
  });

  it("never has more than C requests of an account in flight at the backend", async () => {
    const acct = await limitedAccount({ max_concurrent_requests: 3 });
    await acct.sim.configure({ tokens_per_second: 200 });
    const responses = await Promise.all(Array.from({ length: 12 }, () => acct.chat({ max_tokens: 20, stream: true })));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(3);
    expect(responses.filter((r) => r.status === 429)).toHaveLength(9);
    await Promise.all(responses.map((r) => r.text()));
    const stats = await acct.sim.waitForIdle();
    expect(stats.max_running_seen).toBeLessThanOrEqual(3);
    // The slots come back: the next request is admitted.
    await acct.settledLedger(3);
    expect((await acct.chat({ max_tokens: 2 })).status).toBe(200);
  });

  it("keeps concurrent requests within the monthly token quota", async () => {
    const acct = await limitedAccount({ monthly_token_quota: 3000 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => acct.chat({ max_tokens: 400 })));
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length + refused.length).toBe(20);
    for (const r of refused) expect((await errorOf(r)).code).toBe("insufficient_quota");
    await Promise.all(ok.map((r) => r.json()));
    const ledger = await acct.settledLedger(ok.length);
    const billed = ledger.reduce((sum, e) => sum + e.prompt_tokens + e.completion_tokens, 0);
    expect(billed).toBeLessThanOrEqual(3000);
  });

  it("lowers a max_tokens the client did not set to what the quota leaves", async () => {
    const acct = await limitedAccount({ monthly_token_quota: 500 });
    const res = await acct.chat({});
    expect(res.status).toBe(200);
    const body = (await res.json()) as ChatCompletion;
    expect(body.usage.total_tokens).toBeLessThanOrEqual(500);
  });

  it("tells the openai client not to retry a spent quota", async () => {
    const acct = await limitedAccount({ monthly_token_quota: 50 });
    const res = await acct.chat({ max_tokens: 100 });
    expect(res.status).toBe(429);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("puts OpenAI's rate-limit headers on successful answers of a limited account", async () => {
    const acct = await limitedAccount({ requests_per_minute: 5, tokens_per_minute: 100_000 });
    const res = await acct.chat({ max_tokens: 4 });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe("5");
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("4");
    expect(res.headers.get("x-ratelimit-limit-tokens")).toBe("100000");
    expect(Number(res.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(100_000);
    await res.text();
  });
});

describe("the usage ledger", () => {
  it("reconciles: the ledger equals what the clients received and what the simulator generated", async () => {
    const acct = await limitedAccount();
    const usages: { prompt_tokens: number; completion_tokens: number }[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        if (i % 2 === 0) {
          const body = (await (await acct.chat({ max_tokens: 10 + i })).json()) as ChatCompletion;
          usages.push(body.usage);
        } else {
          const res = await acct.chat({ max_tokens: 10 + i, stream: true, stream_options: { include_usage: true } });
          const events = await readEvents(res);
          usages.push((JSON.parse(events.data.at(-2)!) as ChatCompletion).usage);
        }
      }),
    );
    const ledger = await acct.settledLedger(12);
    expect(ledger).toHaveLength(12);
    expect(ledger.every((e) => e.status === "ok" && e.mode === "live" && e.cost_micro_usd > 0)).toBe(true);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(ledger.map((e) => e.completion_tokens))).toBe(sum(usages.map((u) => u.completion_tokens)));
    expect(sum(ledger.map((e) => e.prompt_tokens))).toBe(sum(usages.map((u) => u.prompt_tokens)));
    const stats = await acct.sim.waitForIdle();
    expect(sum(ledger.map((e) => e.completion_tokens))).toBe(stats.tokens_generated_total);
    expect(sum(ledger.map((e) => e.prompt_tokens))).toBe(stats.prompt_tokens_total);
  });

  it("records the x-request-id the client saw, with time to first token and duration", async () => {
    const acct = await limitedAccount();
    const res = await acct.chat({ max_tokens: 5 });
    const requestId = res.headers.get("x-request-id");
    await res.json();
    const [entry] = await acct.settledLedger(1);
    expect(entry).toMatchObject({ request_id: requestId, model: "limo", backend: "sim", status: "ok", cached: false });
    expect(entry!.ttft_ms).toBeGreaterThanOrEqual(0);
    expect(entry!.duration_ms).toBeGreaterThanOrEqual(entry!.ttft_ms!);
  });

  it("writes no record for a request rejected before the backend", async () => {
    const acct = await limitedAccount({ requests_per_minute: 1 });
    expect((await acct.chat({ temperature: "hot" })).status).toBe(400);
    expect((await acct.chat({ model: "nope" })).status).toBe(404);
    const ok = await acct.chat({ max_tokens: 2 });
    expect(ok.status).toBe(200);
    await ok.text();
    expect((await acct.chat({ max_tokens: 2 })).status).toBe(429);
    expect(await acct.settledLedger(1)).toHaveLength(1);
    expect((await acct.sim.stats()).requests_total).toBe(1);
  });

  it("bills a client that disconnects mid-stream for exactly the tokens relayed, and aborts the backend", async () => {
    const acct = await limitedAccount();
    // Slow enough that the answer is still going when the reconnect grace ends, even on a loaded machine.
    await acct.sim.configure({ tokens_per_second: 100 });
    const res = await acct.chat({ stream: true, max_tokens: 300 });
    const requestId = res.headers.get("x-request-id");
    const events = await readEvents(res, 21); // the role chunk, then 20 content chunks
    const relayed = events.data.filter((d) => d.includes('"content":"') && !d.includes('"content":""')).length;
    expect(relayed).toBe(20);
    const [entry] = await acct.settledLedger(1);
    expect(entry).toMatchObject({ request_id: requestId, status: "client_disconnected" });
    // Billed what was sent to it: at least the 20 it read; under load the generation object
    // may have sent a few more in the same write before the client left (the bound is 35).
    expect(entry!.completion_tokens).toBeGreaterThanOrEqual(20);
    expect(entry!.completion_tokens).toBeLessThanOrEqual(35);
    expect(entry!.prompt_tokens).toBeGreaterThan(0);
    const stats = await acct.sim.waitForIdle();
    expect(stats.aborted_total).toBe(1);
  });

  it("bills a backend that fails mid-stream only what was delivered", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ error_after_tokens: 7 });
    const streamed = await acct.chat({ stream: true, max_tokens: 50 });
    await readEvents(streamed);
    const json = await acct.chat({ max_tokens: 50 });
    expect(json.status).toBe(502);
    const ledger = await acct.settledLedger(2);
    const byStream = ledger.find((e) => e.request_id === streamed.headers.get("x-request-id"))!;
    const byJson = ledger.find((e) => e.request_id === json.headers.get("x-request-id"))!;
    expect(byStream).toMatchObject({ status: "backend_error", completion_tokens: 7, prompt_tokens: 0 });
    expect(byJson).toMatchObject({ status: "backend_error", completion_tokens: 0, prompt_tokens: 0, cost_micro_usd: 0 });
  });

  it("records a backend that refused before the first token, at no cost", async () => {
    const acct = await limitedAccount({ max_concurrent_requests: 1 });
    await acct.sim.configure({ fail_status: 503 });
    expect((await acct.chat({ max_tokens: 5 })).status).toBe(503);
    const [entry] = await acct.settledLedger(1);
    expect(entry).toMatchObject({ status: "backend_error", prompt_tokens: 0, completion_tokens: 0, cost_micro_usd: 0 });
    // Its concurrency slot came back.
    await acct.sim.configure({ fail_status: null });
    expect((await acct.chat({ max_tokens: 2 })).status).toBe(200);
  });

  it("never bills test-mode keys", async () => {
    const acct = await limitedAccount({ monthly_token_quota: 10 });
    const { key } = await acct.a.createKey(acct.accountId, { mode: "test" });
    const res = await acct.a.withKey(key, "/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: "limo", messages: [{ role: "user", content: "hi" }], max_tokens: 30 }),
    });
    expect(res.status).toBe(200);
    await res.json();
    const [entry] = await acct.settledLedger(1);
    expect(entry).toMatchObject({ mode: "test", cost_micro_usd: 0, status: "ok" });
    await pollUntil(acct.sim.stats, (s) => s.in_flight === 0);
  });
});
