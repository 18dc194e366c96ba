/**
 * @module node/sim-fleet.test
 * `startSimFleet` on loopback with a real HTTP client, time scaled 1,000x:
 * a cold deployment answers a POST with Modal's 303 (what a client that does
 * not follow redirects sees), a client that follows (fetch's default, as a
 * Worker's) turns it into GETs of the result URL and gets the stream once
 * the container is up; the stats reader reports tokens, utilisation,
 * preemptions and edge-queued time per deployment; a container can be lost
 * on demand. No assertion depends on how fast the machine is.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimFleet, type SimFleet } from "../../gpu/sim/node-server";

const ask = { model: "GAIR/LIMO", stream: true, max_tokens: 40, messages: [{ role: "user", content: "What is 2 + 3?" }] };

let fleet: SimFleet;
beforeAll(async () => {
  fleet = await startSimFleet({
    timeScale: 1000,
    deployments: [
      { name: "warm-h200", profile: "h200-bf16", config: { min_containers: 1 } },
      { name: "cold-h100", profile: "h100-fp8", config: { min_containers: 0, boot_seconds: 600 } },
    ],
  });
});
afterAll(() => fleet?.close());

const urlOf = (name: string) => fleet.deployments.find((d) => d.name === name)!.url;
const post = (name: string, init: RequestInit = {}) =>
  fetch(`${urlOf(name)}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask), ...init });

describe("startSimFleet", () => {
  it("gives each deployment its own URL and profile", () => {
    expect(fleet.deployments.map((d) => [d.name, d.profile])).toEqual([
      ["warm-h200", "h200-bf16"],
      ["cold-h100", "h100-fp8"],
    ]);
    expect(new Set(fleet.deployments.map((d) => d.url)).size).toBe(2);
  });

  it("streams from a warm container and reports its tokens and utilisation", async () => {
    const res = await post("warm-h200");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    const summary = (await fleet.summary())["warm-h200"]!;
    expect(summary).toMatchObject({ profile: "h200-bf16", generation_tokens: 40, preemptions: 0, redirects_303: 0, cold_starts: 0 });
    expect(summary.utilisation).toBeGreaterThan(0);
    expect(summary.utilisation).toBeLessThanOrEqual(1);
    expect(Object.keys(summary.container_utilisation)).toEqual(["ta-0001"]);
  });

  it("cold: a client that does not follow sees a 303; one that follows gets the stream through the result URL", async () => {
    const manual = await post("cold-h100", { redirect: "manual" });
    expect(manual.status).toBe(303);
    const location = manual.headers.get("location")!;
    expect(location).toContain("__modal_function_call_id=fc-");
    // fetch follows a 303 with a GET, as the Fetch standard says; workerd's fetch does the same.
    const followed = await fetch(location);
    expect(followed.status).toBe(200);
    expect((await followed.text()).trimEnd().endsWith("data: [DONE]")).toBe(true);
    const stats = (await fleet.stats())["cold-h100"]!;
    expect(stats.fleet!.edge.redirects_total).toBeGreaterThanOrEqual(1);
    expect(stats.fleet!.edge.follows_total).toBeGreaterThanOrEqual(1);
    expect(stats.fleet!.totals.edge_wait_seconds_max).toBeGreaterThanOrEqual(600);
  });

  it("loses a container on demand and reports it", async () => {
    expect(await fleet.loseContainer("warm-h200")).toBe("ta-0001");
    expect((await fleet.summary())["warm-h200"]).toMatchObject({ container_losses: 1, cold_starts: 1 });
  });
});
