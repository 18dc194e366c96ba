/**
 * Routing uncapped backends in the isolate (routing/pool-view): no lease at
 * the pool for a backend without max_in_flight, a lease for a capped one, and
 * the pool still hears what changes its breaker.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { poolObject } from "../../worker/routing/pool-rpc";
import { acquireInIsolate, LOCAL_LEASE, reportFromIsolate, VIEW_TTL_MS } from "../../worker/routing/pool-view";
import { pollUntil } from "../helpers/sim";
import { fleet } from "./setup";

type BackendsView = { data: { name: string; in_flight: number; breaker: { state: string; consecutive_failures: number } }[] };

describe("routing without the pool's round trip", () => {
  it("leases nothing at the pool for an uncapped backend, and a slot for a capped one", async () => {
    const pool = poolObject(env);
    for (const maxInFlight of [undefined, 2]) {
      const f = await fleet({ backends: 1, maxInFlight });
      await f.sims[0]!.configure({ tokens_per_second: 40 });
      const pending = f.chat({ max_tokens: 12 });
      await pollUntil(() => f.sims[0]!.stats(), (s) => s.in_flight === 1);
      expect(await pool.inFlight(f.urls[0]!)).toBe(maxInFlight === undefined ? 0 : 1);
      const res = await pending;
      expect(res.status).toBe(200);
      await res.json();
      await f.settled(1);
    }
  });

  it("reports a failure to the pool, and the success that ends the streak", async () => {
    const f = await fleet({ backends: 1 });
    const view = async () => ((await (await f.a.admin("GET", "/backends")).json()) as BackendsView).data[0]!.breaker;
    await f.sims[0]!.configure({ fail_status: 500 });
    const failed = await f.chat();
    expect(failed.status).toBe(502);
    await failed.text();
    await pollUntil(view, (b) => b.consecutive_failures === 1);
    // Past the window in which every request goes through the pool (the pool view takes its clock, so
    // the test passes it a later time instead of waiting): the choice is made in the isolate, and its
    // success, which ends the failure streak, is reported to the pool.
    const later = Date.now() + VIEW_TTL_MS + 1;
    const pool = poolObject(env);
    const candidates = [{ key: f.urls[0]!, name: "b0", weight: 1, maxInFlight: null }];
    expect(await acquireInIsolate(pool, candidates, later)).toMatchObject({ ok: true, leaseId: LOCAL_LEASE, key: f.urls[0] });
    await reportFromIsolate(pool, f.urls[0]!, "success", later);
    expect(await pollUntil(view, (b) => b.consecutive_failures === 0)).toMatchObject({ state: "closed" });
    await f.settled(1);
  });
});
