/**
 * The three routing faults of issue 18 found from outside, each replayed as
 * it was reported: keep-alives for a streaming client that waits for any
 * reason, a lone backend's open breaker, and BACKENDS naming a model by its
 * alias.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ChatCompletion } from "../../shared/openai";
import { BREAKER_FAILURE_THRESHOLD } from "../../worker/routing/breaker";
import { poolObject } from "../../worker/routing/pool-rpc";
import { errorOf } from "../helpers/api";
import { adminApi } from "../helpers/admin";
import { newSim, pollUntil } from "../helpers/sim";
import { readEvents } from "../helpers/sse";
import { fleet } from "./setup";

const KEEPALIVE = ": waiting for a GPU backend to start";

/** Opens a backend's breaker in the real pool object, as a burst of failures does. */
async function openBreaker(url: string): Promise<void> {
  const pool = poolObject(env);
  for (let i = 0; i < BREAKER_FAILURE_THRESHOLD; i++) await pool.report(url, "failure");
  const [status] = await pool.status([url]);
  expect(status!.breaker.state).toBe("open");
}

describe("issue 18 item 5: routing faults", () => {
  it("(a) keeps a streaming client alive while one backend's breaker is open and the other is cold", async () => {
    const f = await fleet({ env: { COLD_START_BUDGET_MS: "10000", KEEPALIVE_INTERVAL_MS: "200" } });
    await f.sims[0]!.configure({ fail_status: 503 });
    await f.sims[1]!.configure({ cold_start_ms: 1_500 });
    await openBreaker(f.urls[0]!);
    const res = await f.chat({ stream: true, max_tokens: 8 });
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    const comments = events.raw.filter((e) => e.startsWith(KEEPALIVE));
    expect(comments.length).toBeGreaterThan(0);
    expect(events.raw.findIndex((e) => e.startsWith("id:"))).toBeGreaterThan(events.raw.indexOf(comments[0]!));
    expect(events.data.at(-1)).toBe("[DONE]");
    const [entry] = await f.settled(1);
    expect(entry).toMatchObject({ status: "ok" });
  });

  it("(a) keeps a streaming client alive while it waits for a free slot (busy wait), not only in a cold-start hold", async () => {
    const f = await fleet({ backends: 1, maxInFlight: 1, env: { KEEPALIVE_INTERVAL_MS: "200", BACKEND_BUSY_WAIT_MS: "5000" } });
    await f.sims[0]!.configure({ tokens_per_second: 10 });
    const first = f.chat({ max_tokens: 10 });
    await pollUntil(() => poolObject(env).inFlight(f.urls[0]!) as Promise<number>, (n) => n === 1);
    const res = await f.chat({ stream: true, max_tokens: 4 });
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    expect(events.raw.filter((e) => e.startsWith(KEEPALIVE)).length).toBeGreaterThan(0);
    expect(events.data.at(-1)).toBe("[DONE]");
    expect((await first).status).toBe(200);
    await f.settled(2);
  });

  it("(b) a lone backend whose breaker opened serves the next request once it recovered: that request is the probe", async () => {
    const f = await fleet({ backends: 1 });
    await openBreaker(f.urls[0]!);
    const res = await f.chat();
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as ChatCompletion).choices[0]!.message.content.length).toBeGreaterThan(0);
    const [status] = await poolObject(env).status([f.urls[0]!]);
    expect(status!.breaker.state).toBe("closed");
    await f.settled(1);
  });

  it("(b) requests arriving while the probe is in flight wait for it, then are served", async () => {
    const f = await fleet({ backends: 1 });
    await f.sims[0]!.configure({ ttft_ms: 300 });
    await openBreaker(f.urls[0]!);
    const responses = await Promise.all(Array.from({ length: 4 }, () => f.chat()));
    for (const res of responses) expect(res.status).toBe(200);
    const ledger = await f.settled(4);
    expect(ledger.every((e) => e.status === "ok")).toBe(true);
  });

  it("(b) a lone backend still failing refuses with Retry-After after its probe, and its breaker stays open", async () => {
    const f = await fleet({ backends: 1 });
    await f.sims[0]!.configure({ fail_status: 503 });
    await openBreaker(f.urls[0]!);
    const res = await f.chat();
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const [status] = await poolObject(env).status([f.urls[0]!]);
    expect(status!.breaker.state).toBe("open");
    await f.settled(1);
  });

  it("(c) accepts a BACKENDS entry naming the model by its alias: it resolves to the served name", async () => {
    const sim = newSim();
    const a = adminApi({ BACKENDS: JSON.stringify([{ name: "aliased", url: sim.url, models: ["limo"], kind: "simulator" }]) });
    expect((await a.fetch("/healthz")).status).toBe(200);
    const { id } = await a.createAccount("Aliases");
    const { key } = await a.createKey(id);
    const res = await a.withKey(key, "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "limo", messages: [{ role: "user", content: "What is 2+2?" }], max_tokens: 8 }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await sim.stats()).requests_total).toBeGreaterThan(0);
  });

  it("(c) refuses a BACKENDS entry naming a model the catalogue does not have, on /healthz and on requests, naming the entry", async () => {
    const sim = newSim();
    const a = adminApi({ BACKENDS: JSON.stringify([{ name: "typo", url: sim.url, models: ["limo-x"], kind: "simulator" }]) });
    const health = await a.fetch("/healthz");
    expect(health.status).toBe(500);
    const error = await errorOf(health);
    expect(error.code).toBe("misconfigured");
    expect(error.message).toContain('entry 0 ("typo")');
    expect(error.message).toContain('"limo-x"');
    const { id } = await a.createAccount("Typos");
    const { key } = await a.createKey(id);
    const res = await a.withKey(key, "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "limo", messages: [{ role: "user", content: "What is 2+2?" }], max_tokens: 8 }),
    });
    expect(res.status).toBe(500);
    expect((await errorOf(res)).code).toBe("misconfigured");
    expect((await sim.stats()).requests_total).toBe(0);
  });
});
