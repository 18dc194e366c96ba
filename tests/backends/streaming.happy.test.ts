/**
 * Routing for streaming clients, whose requests a generation object owns:
 * the same router (retries before the first byte, capacity, cold-start hold)
 * with keep-alive comments while every backend is cold.
 */
import { describe, expect, it } from "vitest";
import { readEvents } from "../helpers/sse";
import { fleet } from "./setup";

const stream = { stream: true, max_tokens: 12 };

describe("routing streaming requests", () => {
  it("holds a streaming client through a cold start with keep-alive comments, then answers", async () => {
    const f = await fleet({ env: { COLD_START_BUDGET_MS: "10000", KEEPALIVE_INTERVAL_MS: "100" } });
    for (const sim of f.sims) await sim.configure({ cold_start_ms: 1_200 });
    const res = await f.chat(stream);
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    const comments = events.raw.filter((e) => e.startsWith(": waiting for a GPU backend to start"));
    expect(comments.length).toBeGreaterThan(0);
    expect(events.data.at(-1)).toBe("[DONE]");
    // The comments came first, then the answer.
    expect(events.raw.findIndex((e) => e.startsWith("id:"))).toBeGreaterThan(events.raw.indexOf(comments[0]!));
    const [entry] = await f.settled(1);
    expect(entry).toMatchObject({ status: "ok" });
  });

  it("ends a held stream with an error event once the cold-start budget is spent", async () => {
    const f = await fleet({ env: { COLD_START_BUDGET_MS: "600", KEEPALIVE_INTERVAL_MS: "100" } });
    for (const sim of f.sims) await sim.configure({ cold_start_ms: 60_000 });
    const res = await f.chat(stream);
    // Held (200, then an error event) or refused at once when no backend can boot within the budget.
    if (res.status === 503) {
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      return;
    }
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    expect(events.data).not.toContain("[DONE]");
    expect(JSON.parse(events.data.at(-1)!)).toMatchObject({ error: { code: "backend_unavailable" } });
    const [entry] = await f.settled(1);
    expect(entry).toMatchObject({ status: "backend_error", completion_tokens: 0, cost_micro_usd: 0 });
  });

  it("retries a failing backend on the other before the first byte", async () => {
    const f = await fleet();
    await f.sims[0]!.configure({ fail_status: 503 });
    const responses = await Promise.all(Array.from({ length: 10 }, () => f.chat(stream)));
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect((await readEvents(res)).data.at(-1)).toBe("[DONE]");
    }
    const ledger = await f.settled(10);
    expect(ledger.every((e) => e.status === "ok")).toBe(true);
  });

  it("never retries once bytes went out: a cut stream reaches one backend once", async () => {
    const f = await fleet();
    for (const sim of f.sims) await sim.configure({ drop_after_tokens: 5 });
    const events = await readEvents(await f.chat(stream));
    expect(events.data).not.toContain("[DONE]");
    expect(JSON.parse(events.data.at(-1)!)).toMatchObject({ error: { code: "backend_error" } });
    await f.settled(1);
    const total = (await Promise.all(f.sims.map((s) => s.stats()))).reduce((n, s) => n + s.requests_total, 0);
    expect(total).toBe(1);
  });
});
