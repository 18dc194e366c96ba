/**
 * What one lease costs at the backend pool object: acquire + release, the
 * round trips a request to a capped backend pays (routing/backend-pool-do.ts
 * quotes it). A timing, so it lives here and not in `npm test`:
 * `npm run bench:pool-cost` runs it inside workerd.
 */
import { env } from "cloudflare:test";
import { expect, it } from "vitest";
import { poolObject } from "../../worker/routing/pool-rpc";

/** Lease round trips measured (each an acquire and a release). */
const LEASES = 200;

it("leases and releases a backend slot in one round trip each (measured, printed)", async () => {
  const pool = poolObject(env);
  const candidates = [{ key: "http://cost.invalid", name: "cost", weight: 1, maxInFlight: 8 }];
  const started = performance.now();
  for (let i = 0; i < LEASES; i++) {
    const lease = await pool.acquire({ candidates, priority: "interactive", waitMs: 0 });
    if (!lease.ok) throw new Error("no lease");
    await pool.release(lease.leaseId, "success");
  }
  const perPair = (performance.now() - started) / LEASES;
  console.log(`backend pool: acquire+release ${perPair.toFixed(3)} ms per request (local workerd)`);
  expect(await pool.inFlight("http://cost.invalid")).toBe(0);
});
