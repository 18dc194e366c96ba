import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { BackendStatusList } from "../../shared/backends";
import worker from "../../worker/index";
import { fleet } from "./setup";

async function pollNow(f: Awaited<ReturnType<typeof fleet>>): Promise<BackendStatusList> {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), f.a.env, ctx);
  await waitOnExecutionContext(ctx);
  return (await (await f.a.admin("GET", "/backends")).json()) as BackendStatusList;
}

describe("the backends view: vLLM's KV-cache usage (the dashboard's backends page)", () => {
  it("shows what the cron read from /metrics: empty while idle, filling while a generation runs", async () => {
    const f = await fleet({ backends: 1 });
    const idle = await pollNow(f);
    expect(idle.data[0]!.health).toMatchObject({ state: "warm", source: "poll", kv_cache_usage: 0, num_requests_running: 0 });

    await f.sims[0]!.configure({ tokens_per_second: 20 });
    const res = await f.chat({ stream: true, max_tokens: 2000 });
    const reader = res.body!.getReader();
    await reader.read(); // the generation is running on the backend
    const busy = await pollNow(f);
    expect(busy.data[0]!.health!.num_requests_running).toBe(1);
    expect(busy.data[0]!.health!.kv_cache_usage).toBeGreaterThan(0);
    expect(busy.data[0]!.health!.kv_cache_usage).toBeLessThanOrEqual(1);
    await reader.cancel();
    await f.settled(1);
  });
});
