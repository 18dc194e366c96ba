import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ChatCompletion } from "../../shared/openai";
import worker from "../../worker/index";
import { errorOf } from "../helpers/api";
import { expectRetryable, fleet } from "./setup";

describe("routing across several backends", () => {
  it("serves every request when one of two backends answers 503 to everything", async () => {
    const f = await fleet();
    await f.sims[0]!.configure({ fail_status: 503 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => f.chat()));
    for (const res of responses) expect(res.status, await res.clone().text()).toBe(200);
    await Promise.all(responses.map((r) => r.json()));
    expect((await f.sims[1]!.stats()).completed_total).toBe(20);
    const ledger = await f.settled(20);
    expect(ledger.filter((e) => e.status === "ok")).toHaveLength(20);
    expect(new Set(ledger.map((e) => e.backend))).toEqual(new Set(["b1"]));
  });

  it("spreads load over healthy backends", async () => {
    const f = await fleet();
    const responses = await Promise.all(Array.from({ length: 20 }, () => f.chat()));
    await Promise.all(responses.map((r) => r.json()));
    const [s0, s1] = await Promise.all(f.sims.map((s) => s.stats()));
    expect(s0!.completed_total + s1!.completed_total).toBe(20);
    expect(s0!.completed_total).toBeGreaterThan(0);
    expect(s1!.completed_total).toBeGreaterThan(0);
    await f.settled(20);
  });

  it("never retries once the backend answered: a cut stream reaches the client, and the backends saw one request", async () => {
    const f = await fleet();
    for (const sim of f.sims) await sim.configure({ drop_after_tokens: 5 });
    const res = await f.chat({ max_tokens: 40 });
    expect(res.status).toBe(502);
    expect((await errorOf(res)).code).toBe("backend_error");
    const [s0, s1] = await Promise.all(f.sims.map((s) => s.stats()));
    expect(s0!.requests_total + s1!.requests_total).toBe(1);
    const [entry] = await f.settled(1);
    expect(entry!.status).toBe("backend_error");
  });

  it("routes around a backend that stops listening, and its breaker opens", async () => {
    const f = await fleet({ backends: 1, urls: ["http://127.0.0.1:1"] });
    type View = { data: { name: string; breaker: { state: string }; in_flight: number }[] };
    const view = async () => (await (await f.a.admin("GET", "/backends")).json()) as View;
    // The dead backend is chosen at random (weighted), so send until it has failed often enough; every answer is a 200.
    let sent = 0;
    while ((await view()).data[1]!.breaker.state !== "open") {
      expect(sent, "the breaker never opened").toBeLessThan(60);
      const res = await f.chat();
      expect(res.status).toBe(200);
      await res.json();
      sent++;
    }
    const { data } = await view();
    expect(data.map((b) => b.name)).toEqual(["b0", "b1"]);
    expect(data[0]!.breaker.state).toBe("closed");
    // While it is open, nothing is sent its way: every request goes to the live one at the first attempt.
    const before = (await f.sims[0]!.stats()).requests_total;
    for (let i = 0; i < 5; i++) expect((await f.chat()).status).toBe(200);
    expect((await f.sims[0]!.stats()).requests_total - before).toBe(5);
    const ledger = await f.settled(sent + 5);
    expect(ledger.every((e) => e.status === "ok")).toBe(true);
  });

  it("keeps every backend within max_in_flight under 60 concurrent slow requests; refusals say when to retry", async () => {
    const f = await fleet({ maxInFlight: 8, env: { BACKEND_BUSY_WAIT_MS: "200" } });
    for (const sim of f.sims) await sim.configure({ tokens_per_second: 20 });
    const responses = await Promise.all(Array.from({ length: 60 }, () => f.chat({ max_tokens: 10 })));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(16);
    for (const res of responses.filter((r) => r.status !== 200)) {
      expectRetryable(res);
      expect((await errorOf(res)).code).toBe("server_busy");
    }
    await Promise.all(ok.map((r) => r.json()));
    for (const sim of f.sims) expect((await sim.stats()).max_in_flight_seen).toBeLessThanOrEqual(8);
    // Refused after admission: still one record each, at no cost.
    const ledger = await f.settled(60);
    expect(ledger).toHaveLength(60);
    expect(ledger.filter((e) => e.status === "ok")).toHaveLength(ok.length);
    expect(ledger.filter((e) => e.status !== "ok").every((e) => e.completion_tokens === 0)).toBe(true);
  });

  it("holds a request while every backend is cold, within the budget", async () => {
    const f = await fleet({ env: { COLD_START_BUDGET_MS: "5000" } });
    for (const sim of f.sims) await sim.configure({ cold_start_ms: 1200 });
    const started = Date.now();
    const res = await f.chat();
    expect(res.status).toBe(200);
    expect(((await res.json()) as ChatCompletion).choices[0]!.message.content.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const [entry] = await f.settled(1);
    expect(entry!.status).toBe("ok");
  });

  it("answers 503 with Retry-After when the cold start outlasts the budget", async () => {
    const f = await fleet({ env: { COLD_START_BUDGET_MS: "600" } });
    for (const sim of f.sims) await sim.configure({ cold_start_ms: 60_000 });
    const res = await f.chat();
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await errorOf(res)).code).toBe("backend_unavailable");
    const [entry] = await f.settled(1);
    expect(entry!.status).toBe("backend_error");
    expect(entry!.completion_tokens).toBe(0);
  });

  it("cuts a backend that never sends a first token, and settles the request as a timeout", async () => {
    const f = await fleet({ backends: 1, env: { TTFT_TIMEOUT_MS: "300" } });
    await f.sims[0]!.configure({ hang: true });
    const res = await f.chat();
    expect(res.status).toBe(504);
    expect((await errorOf(res)).code).toBe("backend_timeout");
    const [entry] = await f.settled(1);
    expect(entry!.status).toBe("timeout");
    expect((await f.sims[0]!.stats()).aborted_total).toBe(1);
  });

  it("cuts a stream that goes silent, and settles it as a timeout", async () => {
    const f = await fleet({ backends: 1, env: { STREAM_IDLE_TIMEOUT_MS: "200" } });
    await f.sims[0]!.configure({ tokens_per_second: 2 });
    const res = await f.chat({ max_tokens: 20 });
    expect(res.status).toBe(504);
    const [entry] = await f.settled(1);
    expect(entry!.status).toBe("timeout");
  });

  it("polls every backend's health and vLLM metrics from the cron trigger, and shows them to operators", async () => {
    const f = await fleet();
    await f.sims[1]!.configure({ fail_status: 500 });
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), f.a.env, ctx);
    await waitOnExecutionContext(ctx);
    const { data } = (await (await f.a.admin("GET", "/backends")).json()) as {
      data: { health: { state: string; num_requests_running: number | null; source: string } | null }[];
    };
    expect(data[0]!.health).toMatchObject({ state: "warm", num_requests_running: 0, source: "poll" });
    expect(data[1]!.health).toMatchObject({ state: "down", source: "poll" });
  });

  it("refuses the backends view without the admin token", async () => {
    const f = await fleet({ backends: 1 });
    expect((await f.a.admin("GET", "/backends", undefined, null)).status).toBe(401);
  });
});
