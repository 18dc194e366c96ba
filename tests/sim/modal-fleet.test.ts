/**
 * @module sim/modal-fleet.test
 * The simulator as a Modal deployment of vLLM, over HTTP, on a virtual
 * clock (deterministic; nothing waits for wall time): a request held while
 * a container boots is cut at 150 s with a 303 to a result URL that a GET
 * follows; the first token of a warm container arrives after exactly one
 * prefill step; edge-queued requests are invisible to vLLM's gauges; `n`
 * counts as sequences; a lost container breaks its streams; an idle one
 * scales to zero; app.server answers 503 with no live replica.
 */
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../gpu/sim/fleet/clock";
import { CALL_ID_PARAM, type CallRecord } from "../../gpu/sim/fleet/modal-edge";
import { createSimulator, type SimConfigPatch, type SimStats } from "../../gpu/sim/simulator";
import { readSse } from "../helpers/sim";
import { turn, untilSettled } from "../helpers/virtual-clock";

const GIB = 2 ** 30;
const BASE = "http://sim.test";
const ask = { model: "GAIR/LIMO", messages: [{ role: "user", content: "What is 6 times 7?" }] };

/** A simulator whose fleet runs on `clock`, configured with `patch`. */
async function fleetSim(patch: SimConfigPatch) {
  const clock = new VirtualClock();
  const sim = createSimulator({ fleetClock: () => clock });
  const res = await sim.fetch(new Request(`${BASE}/sim/config`, { method: "POST", body: JSON.stringify({ profile: "h200-bf16", ...patch }) }));
  expect(res.status).toBe(200);
  const stats = async (): Promise<SimStats> => (await (await sim.fetch(new Request(`${BASE}/sim/stats`))).json()) as SimStats;
  const chat = (body: Record<string, unknown> = {}, init: RequestInit = {}) =>
    sim.fetch(new Request(`${BASE}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...ask, stream: true, ...body }), ...init }));
  const until = <T>(promise: Promise<T>, strideMs = 0, limitMs?: number) => untilSettled(clock, promise, strideMs, limitMs);
  /** GETs a result URL again and again, as a client following redirects does, until it is not a 303. */
  async function follow(location: string): Promise<Response> {
    for (;;) {
      const res = await until(sim.fetch(new Request(location)));
      if (res.status !== 303) return res;
      expect(res.headers.get("location")).toBe(location);
    }
  }
  return { clock, sim, stats, chat, until, follow };
}

describe("a cold deployment (min_containers 0)", () => {
  it("holds the request while a container boots, cuts it at 150 s with a 303, and a GET of the result URL gets the stream", async () => {
    const { clock, sim, stats, chat, until } = await fleetSim({ min_containers: 0, boot_seconds: 240 });
    let first: Response | null = null;
    const held = chat({ max_tokens: 20 }).then((r) => (first = r));
    await turn();
    expect((await stats()).fleet).toMatchObject({ edge_queued: 1, containers: [{ state: "booting", inputs: 0 }], totals: { cold_starts_total: 1 } });
    clock.advanceTo(149_999);
    await turn();
    expect(first).toBeNull();
    clock.advanceTo(150_000);
    await held;
    const cut = first as unknown as Response;
    expect(cut.status).toBe(303);
    const location = new URL(cut.headers.get("location")!);
    expect(location.pathname).toBe("/v1/chat/completions");
    expect(location.searchParams.get(CALL_ID_PARAM)).toMatch(/^fc-[0-9A-Z]{26}$/);

    // Re-sending the POST to the result URL is refused; a GET waits for the call.
    const repost = await sim.fetch(new Request(location, { method: "POST", body: "{}" }));
    expect([repost.status, await repost.text()]).toEqual([400, "modal-http: bad redirect method"]);
    const follow = await until(sim.fetch(new Request(location)));
    expect(clock.now()).toBeGreaterThanOrEqual(240_000);
    expect(follow.status).toBe(200);
    const { data, error } = await until(readSse(follow));
    expect(error).toBeNull();
    expect(data.at(-1)).toBe("[DONE]");
    const s = await stats();
    expect(s.fleet).toMatchObject({ edge: { redirects_total: 1, follows_total: 1, bad_redirect_method_total: 1, detached_total: 1 }, held: 0 });
    expect(s.fleet!.totals.edge_wait_seconds_max).toBeCloseTo(240, 6);
    expect(s.tokens_generated_total).toBe(20);
  });

  it("answers a follower that is still waiting after 150 s more with another 303 to the same URL", async () => {
    const { clock, sim, chat, until, follow } = await fleetSim({ min_containers: 0, boot_seconds: 600 });
    const held = chat({ max_tokens: 5 });
    await turn();
    clock.advanceTo(150_000);
    const location = (await held).headers.get("location")!;
    const again = sim.fetch(new Request(location));
    await turn();
    clock.advanceTo(300_000);
    expect((await again).status).toBe(303);
    expect((await again).headers.get("location")).toBe(location);
    // A 10-minute boot is four 303s in all; the fifth answer is the stream.
    const done = await follow(location);
    expect(done.status).toBe(200);
    expect(clock.now()).toBe(600_000);
    expect((await until(readSse(done))).data.at(-1)).toBe("[DONE]");
  });

  it("a client that leaves while held cancels its call", async () => {
    const { stats, chat } = await fleetSim({ min_containers: 0 });
    const leaving = new AbortController();
    const held = chat({}, { signal: leaving.signal });
    await turn();
    leaving.abort();
    expect((await held).status).toBe(499);
    expect((await stats()).fleet).toMatchObject({ edge_queued: 0, held: 0, edge: { left_while_held_total: 1 } });
  });

  it("a non-streamed answer longer than 150 s is cut even on a warm container, and the result URL gives the JSON", async () => {
    const { clock, chat, until, follow } = await fleetSim({ min_containers: 1, min_tokens: 12_000 });
    // 12,000 tokens at >= 14 ms a step: 168 s without a response byte.
    const cut = await until(chat({ stream: false, max_tokens: 12_000 }), 5_000);
    expect(cut.status).toBe(303);
    expect(clock.now()).toBeGreaterThanOrEqual(150_000);
    const result = await follow(cut.headers.get("location")!);
    expect(result.status).toBe(200);
    const body = (await until(result.json(), 5_000)) as { usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBe(12_000);
  });
});

describe("a warm container", () => {
  it("streams the first token after exactly one prefill step of the prompt", async () => {
    const { clock, chat, until } = await fleetSim({ min_containers: 1 });
    const res = await chat({ max_tokens: 3, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes('"content":"') || text.split('"content":"').length < 3) {
      const { value, done } = await until(reader.read());
      if (done) break;
      text += decoder.decode(value);
    }
    const firstTokenAt = clock.now();
    let rest = "";
    for (;;) {
      const { value, done } = await until(reader.read());
      if (done) break;
      rest += decoder.decode(value);
    }
    const usage = JSON.parse(rest.split("\n").filter((l) => l.includes('"usage"')).at(-1)!.slice(6)).usage;
    const p = usage.prompt_tokens as number;
    // Memory-bound prefill (the prompt is short): overhead + (weights + prompt KV) / bandwidth.
    expect(firstTokenAt).toBeCloseTo(0.4 + ((61 * GIB + p * 256 * 1024) / 4.8e12) * 1000, 6);
  });

  it("runs n choices as n sequences: vllm:num_requests_running counts 3 for one request", async () => {
    const { sim, chat, until } = await fleetSim({ min_containers: 1, min_tokens: 500 });
    const res = await chat({ n: 3, max_tokens: 500 });
    const reader = res.body!.getReader();
    await until(reader.read());
    const metrics = await until(sim.fetch(new Request(`${BASE}/metrics`)).then((r) => r.text()));
    expect(metrics).toContain('vllm:num_requests_running{engine="0",model_name="GAIR/LIMO"} 3.0');
    expect(metrics).toContain("vllm:num_preemptions_total");
    await reader.cancel();
  });

  it("queues requests beyond max_inputs at the edge, where vLLM's gauges cannot see them", async () => {
    const { clock, stats, chat, until } = await fleetSim({ min_containers: 1, max_containers: 1, max_inputs: 2, target_inputs: 2, min_tokens: 300 });
    const streams = [await chat({ max_tokens: 300 }), await chat({ max_tokens: 300 })];
    const third = chat({ max_tokens: 300 });
    await turn();
    clock.advanceBy(100);
    const s = await stats();
    expect(s.fleet).toMatchObject({ edge_queued: 1, containers: [{ inputs: 2, running: 2, waiting: 0 }] });
    await Promise.all(streams.map((r) => until(readSse(r))));
    const late = await until(third);
    expect(late.status).toBe(200);
    await until(readSse(late));
    expect((await stats()).fleet!.totals.edge_wait_seconds_max).toBeGreaterThan(300 * 0.014);
  });

  it("logs each call's arrival, dispatch to a container and first byte (/sim/calls), so a fleet run sees where its TTFT went", async () => {
    const { sim, chat, until } = await fleetSim({ min_containers: 1, max_containers: 1, max_inputs: 1, target_inputs: 1, min_tokens: 50 });
    const first = await chat({ max_tokens: 50, messages: [{ role: "user", content: "first question" }] });
    const second = chat({ max_tokens: 50, n: 2, messages: [{ role: "user", content: "second question" }] });
    await until(readSse(first));
    await until(readSse(await until(second)));
    const calls = (await (await sim.fetch(new Request(`${BASE}/sim/calls`))).json()) as CallRecord[];
    expect(calls.map((c) => [c.tag, c.n, c.max_tokens, c.container])).toEqual([
      ["first question", 1, 50, "ta-0001"],
      ["second question", 2, 50, "ta-0001"],
    ]);
    const [a, b] = calls as [CallRecord, CallRecord];
    // The first starts at once and answers after one prefill; the second waits at the edge for the first's input.
    expect(a.dispatched_ms).toBe(a.arrived_ms);
    expect(a.first_byte_ms! - a.dispatched_ms!).toBeCloseTo(0.4 + ((61 * GIB + 0) / 4.8e12) * 1000, 0);
    expect(b.dispatched_ms! - b.arrived_ms).toBeGreaterThan(50 * 14);
    expect(b.first_byte_ms!).toBeGreaterThan(b.dispatched_ms!);
  });

  it("a lost container breaks its streams, and the autoscaler boots a replacement", async () => {
    const { sim, stats, chat, until } = await fleetSim({ min_containers: 1, min_tokens: 1000 });
    const res = await chat({ max_tokens: 1000 });
    const reader = res.body!.getReader();
    await until(reader.read());
    const lose = await sim.fetch(new Request(`${BASE}/sim/containers/lose`, { method: "POST", body: "{}" }));
    expect(((await lose.json()) as { lost: string }).lost).toBe("ta-0001");
    await expect(until((async () => {
      for (;;) if ((await reader.read()).done) return "ended cleanly";
    })())).rejects.toThrow();
    const s = await stats();
    expect(s.errored_total).toBe(1);
    expect(s.fleet).toMatchObject({ containers: [{ id: "ta-0002", state: "booting" }], totals: { container_losses_total: 1, cold_starts_total: 1 } });
  });

  it("an idle container stops after the scale-down window: scale to zero", async () => {
    const { clock, stats, chat, until } = await fleetSim({ min_containers: 0, boot_seconds: 10, scaledown_window_seconds: 60 });
    const res = await until(chat({ max_tokens: 5 }));
    await until(readSse(res));
    const finishedAt = clock.now();
    expect((await stats()).fleet!.containers).toHaveLength(1);
    clock.advanceTo(finishedAt + 60_000);
    const s = await stats();
    expect(s.fleet).toMatchObject({ containers: [], totals: { scale_downs_total: 1, cold_starts_total: 1 } });
    expect(s.fleet!.totals.container_seconds_total).toBeCloseTo(finishedAt / 1000 + 60, 6);
  });
});

describe("an app.server front", () => {
  it("answers 503 with no live replica instead of holding the request, then serves once one is up", async () => {
    const { clock, stats, chat, until } = await fleetSim({ modal_front: "server", min_containers: 0, boot_seconds: 30 });
    const refused = await chat();
    expect(refused.status).toBe(503);
    expect((await stats()).fleet).toMatchObject({ edge: { unavailable_total: 1 }, containers: [{ state: "booting" }] });
    clock.advanceTo(30_000);
    const ok = await until(chat({ max_tokens: 4 }));
    expect(ok.status).toBe(200);
    expect((await until(readSse(ok))).data.at(-1)).toBe("[DONE]");
  });
});
