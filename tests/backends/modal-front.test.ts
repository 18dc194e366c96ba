/**
 * The router against production as it is: a simulated Modal deployment of
 * vLLM (gpu/sim/fleet, time scale 100) in front of the gateway. A boot that
 * outlasts Modal's 150 s cut arrives as a chain of 303s, `app.server` answers
 * 503 "no live replica", a booting deployment holds the health poll, and a
 * container can be lost mid-stream.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { pollBackends } from "../../worker/routing/health-poll";
import { poolObject } from "../../worker/routing/pool-rpc";
import { SseSplitter, sseData } from "../../shared/sse";
import { readEvents } from "../helpers/sse";
import { fleet } from "./setup";

const KEEPALIVE = ": waiting for a GPU backend to start";
/** 100 simulated seconds a wall second: the 150 s cut in 1.5 s, a 200 s boot in 2 s. */
const TIME_SCALE = 100;

interface FleetEdge {
  fleet: { edge: { redirects_total: number; follows_total: number; unavailable_total: number; bad_redirect_method_total: number } };
  requests_total: number;
}

describe("routing through Modal's front", () => {
  it("follows the 303s of a boot longer than Modal's cut as GETs, keeps the stream alive, and sends the POST once", async () => {
    const f = await fleet({ backends: 1, env: { KEEPALIVE_INTERVAL_MS: "200" } });
    await f.sims[0]!.configure({ profile: "h200-bf16", time_scale: TIME_SCALE, min_containers: 0, boot_seconds: 200, request_cut_seconds: 60 });
    const res = await f.chat({ stream: true, max_tokens: 8 });
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    expect(events.raw.filter((e) => e.startsWith(KEEPALIVE)).length).toBeGreaterThan(0);
    expect(events.data.at(-1)).toBe("[DONE]");
    const stats = (await f.sims[0]!.stats()) as unknown as FleetEdge;
    expect(stats.fleet.edge.redirects_total).toBeGreaterThanOrEqual(2);
    expect(stats.fleet.edge.follows_total).toBe(stats.fleet.edge.redirects_total);
    expect(stats.fleet.edge.bad_redirect_method_total).toBe(0);
    expect(stats.requests_total).toBe(1);
    const [status] = await poolObject(env).status([f.urls[0]!]);
    expect(status!.breaker.consecutive_failures).toBe(0);
    const [entry] = await f.settled(1);
    expect(entry).toMatchObject({ status: "ok" });
  });

  it("takes app.server's 503 'no live replica' as a cold start: re-sent once a replica is up, never a breaker failure", async () => {
    const f = await fleet({ backends: 1, env: { COLD_START_BUDGET_MS: "20000" } });
    await f.sims[0]!.configure({ profile: "h200-bf16", time_scale: TIME_SCALE, modal_front: "server", min_containers: 0, boot_seconds: 150 });
    const res = await f.chat({ max_tokens: 8 });
    expect(res.status, await res.clone().text()).toBe(200);
    const stats = (await f.sims[0]!.stats()) as unknown as FleetEdge;
    expect(stats.fleet.edge.unavailable_total).toBeGreaterThan(0);
    const [status] = await poolObject(env).status([f.urls[0]!]);
    expect(status!.breaker).toMatchObject({ state: "closed", consecutive_failures: 0 });
    await f.settled(1);
  });

  it("records a deployment whose /health is held at Modal's edge past the poll's timeout as cold, not down", async () => {
    const f = await fleet({ backends: 1 });
    await f.sims[0]!.configure({ profile: "h200-bf16", time_scale: 1, min_containers: 0, boot_seconds: 600 });
    await pollBackends(f.a.env, new Date(), 300);
    const [status] = await poolObject(env).status([f.urls[0]!]);
    expect(status!.health).toMatchObject({ state: "cold", source: "poll" });
  });

  it("ends a stream whose container is lost with an error event, and bills the tokens it delivered", async () => {
    const f = await fleet({ backends: 1 });
    await f.sims[0]!.configure({ profile: "h200-bf16", time_scale: 10, min_containers: 1, max_containers: 1, min_tokens: 2000 });
    const res = await f.chat({ stream: true, max_tokens: 2000 });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const splitter = new SseSplitter();
    const decoder = new TextDecoder();
    const data: string[] = [];
    let lost = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const event of splitter.push(decoder.decode(value, { stream: true }))) {
        const d = sseData(event);
        if (d !== null) data.push(d);
      }
      if (!lost && data.length >= 5) {
        lost = true;
        const lose = await fetch(`${f.urls[0]}/sim/containers/lose`, { method: "POST", body: "{}" });
        expect(lose.status).toBe(200);
      }
    }
    expect(data).not.toContain("[DONE]");
    expect(JSON.parse(data.at(-1)!)).toMatchObject({ error: { code: "backend_error" } });
    const [entry] = await f.settled(1);
    expect(entry!.status).toBe("backend_error");
    expect(entry!.completion_tokens).toBeGreaterThan(0);
    expect(entry!.completion_tokens).toBeLessThan(2000);
  });
});
