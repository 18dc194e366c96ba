/**
 * @module sim/knobs.test
 * Every `/sim/config` knob does what a test of the Worker will rely on:
 * latency, pace, cold start, concurrency and queueing, failure statuses,
 * broken and errored streams, hangs, Modal's proxy auth, and resets.
 */
import { describe, expect, it } from "vitest";
import { FLEET_CONFIG_DEFAULTS } from "../../gpu/sim/fleet/fleet-config";
import { newSim, pollUntil, readSse, readSseData, type SimHandle } from "../helpers/sim";

/** vLLM's generation routes take application/json only. */
const JSON_HEADERS = { "content-type": "application/json" };
const ask = { model: "GAIR/LIMO", messages: [{ role: "user", content: "What is 6 times 7?" }] };

function chat(sim: SimHandle, body: Record<string, unknown> = {}, init: RequestInit = {}): Promise<Response> {
  const headers = { ...JSON_HEADERS, ...(init.headers as Record<string, string> | undefined) };
  return fetch(`${sim.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ ...ask, ...body }), ...init, headers });
}

const contentChunks = (data: string[]) =>
  data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d)).filter((c) => c.choices?.[0]?.delta?.content);

async function metric(sim: SimHandle, name: string): Promise<number> {
  const text = await (await fetch(`${sim.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes('model_name="GAIR/LIMO"'));
  return Number(line?.split(" ").at(-1));
}

describe("latency", () => {
  it("waits ttft_ms before the first token", async () => {
    const sim = newSim();
    await sim.configure({ ttft_ms: 300 });
    const started = Date.now();
    const res = await chat(sim, { stream: true, max_tokens: 2 });
    await readSseData(res);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it("paces tokens at tokens_per_second", async () => {
    const sim = newSim();
    await sim.configure({ tokens_per_second: 100 });
    const started = Date.now();
    const data = await readSseData(await chat(sim, { stream: true, max_tokens: 21 }));
    expect(contentChunks(data)).toHaveLength(21);
    // 20 gaps of 10 ms at least; no upper bound, a loaded machine may be slower.
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });
});

describe("answer length", () => {
  const completionTokens = async (res: Response) => ((await res.json()) as any).usage.completion_tokens as number;

  it("makes every answer at least min_tokens long, still cut by max_tokens, streams included", async () => {
    const sim = newSim();
    // Natural answers are 80 to 400 tokens: 1,500 is beyond any of them.
    expect(await completionTokens(await chat(sim, { max_tokens: 1500, temperature: 0 }))).toBeLessThan(1500);
    await sim.configure({ min_tokens: 1200 });
    const unbounded = await completionTokens(await chat(sim, { temperature: 0 }));
    expect(unbounded).toBeGreaterThanOrEqual(1200);
    const res = await chat(sim, { max_tokens: 1500 });
    const body = (await res.json()) as any;
    expect(body.usage.completion_tokens).toBeGreaterThanOrEqual(1200);
    expect(await completionTokens(await chat(sim, { max_tokens: 700 }))).toBe(700);
    const data = await readSseData(await chat(sim, { stream: true, max_tokens: 900 }));
    expect(contentChunks(data)).toHaveLength(900);
  });

  it("takes the larger of the request's min_tokens and the knob, and resets on null", async () => {
    const sim = newSim();
    await sim.configure({ min_tokens: 300 });
    expect(await completionTokens(await chat(sim, { max_tokens: 3000, min_tokens: 2000 }))).toBeGreaterThanOrEqual(2000);
    expect(await completionTokens(await chat(sim, { max_tokens: 3000, min_tokens: 10 }))).toBeGreaterThanOrEqual(300);
    await sim.configure({ min_tokens: 2500 });
    expect(await completionTokens(await chat(sim, { max_tokens: 3000, min_tokens: 10 }))).toBeGreaterThanOrEqual(2500);
    await sim.configure({ min_tokens: null });
    expect(await completionTokens(await chat(sim, { max_tokens: 3000, temperature: 0 }))).toBeLessThan(2500);
    for (const bad of [-1, 1.5, "long"]) {
      const res = await fetch(`${sim.url}/sim/config`, { method: "POST", body: JSON.stringify({ min_tokens: bad }) });
      expect(res.status).toBe(400);
    }
  });
});

describe("cold start", () => {
  it("answers 503 to everything until cold_start_ms after the first request, then serves", async () => {
    const sim = newSim();
    await sim.configure({ cold_start_ms: 400 });
    const cold = await chat(sim, { max_tokens: 2 });
    expect(cold.status).toBe(503);
    expect(await cold.json()).toMatchObject({ error: { type: "ServiceUnavailableError", param: null, code: 503 } });
    expect((await fetch(`${sim.url}/health`)).status).toBe(503);
    await pollUntil(() => fetch(`${sim.url}/health`).then((r) => r.status), (s) => s === 200);
    expect((await chat(sim, { max_tokens: 2 })).status).toBe(200);
    expect(await sim.stats()).toMatchObject({ requests_total: 2, rejected_total: 1, completed_total: 1 });
  });
});

describe("capacity", () => {
  it("runs max_concurrent requests at once and queues the rest as waiting", async () => {
    const sim = newSim();
    await sim.configure({ max_concurrent: 1, tokens_per_second: 50 });
    const responses = await Promise.all([0, 1, 2].map(() => chat(sim, { stream: true, max_tokens: 10 })));
    // Streaming responses start at once, as vLLM's do; the queue is inside.
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const reading = responses.map((r) => readSseData(r));
    const busy = await pollUntil(() => sim.stats(), (s) => s.running === 1 && s.waiting === 2);
    expect(busy.in_flight).toBe(3);
    expect(await metric(sim, "vllm:num_requests_running")).toBe(1);
    expect(await metric(sim, "vllm:num_requests_waiting")).toBe(2);
    expect(await metric(sim, "vllm:kv_cache_usage_perc")).toBeGreaterThan(0);
    for (const data of await Promise.all(reading)) expect(contentChunks(data)).toHaveLength(10);
    const idle = await sim.waitForIdle();
    expect(idle).toMatchObject({ completed_total: 3, max_running_seen: 1, max_in_flight_seen: 3, running: 0, waiting: 0 });
    expect(await metric(sim, "vllm:num_requests_waiting")).toBe(0);
  });

  it("counts requests running at once when unlimited", async () => {
    const sim = newSim();
    await sim.configure({ tokens_per_second: 50 });
    await Promise.all([0, 1, 2, 3].map(async () => readSseData(await chat(sim, { stream: true, max_tokens: 5 }))));
    expect(await sim.waitForIdle()).toMatchObject({ completed_total: 4, max_running_seen: 4, max_in_flight_seen: 4 });
  });
});

describe("failures", () => {
  it("answers /v1 and /health with fail_status until it is reset", async () => {
    const sim = newSim();
    await sim.configure({ fail_status: 500 });
    const res = await chat(sim);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { message: expect.any(String), type: "InternalServerError", param: null, code: 500 } });
    expect((await fetch(`${sim.url}/health`)).status).toBe(500);
    expect((await fetch(`${sim.url}/v1/models`)).status).toBe(500);
    expect((await fetch(`${sim.url}/metrics`)).status).toBe(200);
    await sim.configure({ fail_status: null });
    expect((await chat(sim, { max_tokens: 1 })).status).toBe(200);
    expect(await sim.stats()).toMatchObject({ requests_total: 2, rejected_total: 1, completed_total: 1 });
  });

  it("breaks the connection after drop_after_tokens, with no [DONE]", async () => {
    const sim = newSim();
    await sim.configure({ drop_after_tokens: 5 });
    const res = await chat(sim, { stream: true });
    expect(res.status).toBe(200);
    const { data, error } = await readSse(res);
    expect(error).not.toBeNull();
    expect(data).not.toContain("[DONE]");
    expect(contentChunks(data)).toHaveLength(5);
    expect(await sim.waitForIdle()).toMatchObject({ errored_total: 1, completed_total: 0, tokens_generated_total: 5 });
    // Without streaming the JSON body breaks off the same way.
    const whole = await chat(sim);
    await expect(whole.text()).rejects.toThrow();
    expect(await sim.waitForIdle()).toMatchObject({ errored_total: 2, completed_total: 0 });
  });

  it("sends vLLM's in-stream error after error_after_tokens, then [DONE], status 200", async () => {
    const sim = newSim();
    await sim.configure({ error_after_tokens: 5 });
    const res = await chat(sim, { stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    const data = await readSseData(res);
    expect(data.at(-1)).toBe("[DONE]");
    expect(JSON.parse(data.at(-2)!)).toEqual({ error: { message: expect.any(String), type: "InternalServerError", param: null, code: 500 } });
    expect(contentChunks(data)).toHaveLength(5);
    expect(await sim.waitForIdle()).toMatchObject({ errored_total: 1, tokens_generated_total: 5 });
  });

  it("hangs until the client goes away, then counts the request aborted", async () => {
    const sim = newSim();
    await sim.configure({ hang: true });
    const client = new AbortController();
    const pending = chat(sim, { stream: true }, { signal: client.signal }).then(
      () => "answered",
      () => "aborted",
    );
    await pollUntil(() => sim.stats(), (s) => s.in_flight === 1);
    client.abort();
    expect(await pending).toBe("aborted");
    expect(await sim.waitForIdle()).toMatchObject({ aborted_total: 1, completed_total: 0 });
  });
});

describe("Modal proxy auth", () => {
  it("refuses /v1 without both Modal-Key and Modal-Secret, and leaves /health open", async () => {
    const sim = newSim();
    await sim.configure({ require_proxy_auth: true });
    expect((await chat(sim)).status).toBe(401);
    expect((await chat(sim, {}, { headers: { "Modal-Key": "k" } })).status).toBe(401);
    expect((await fetch(`${sim.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
    const ok = await chat(sim, { max_tokens: 1 }, { headers: { "Modal-Key": "k", "Modal-Secret": "s" } });
    expect(ok.status).toBe(200);
    expect((await sim.stats()).last_request?.header_names).toEqual(expect.arrayContaining(["modal-key", "modal-secret"]));
  });
});

describe("the control plane", () => {
  it("returns the whole config, resets a field on null, and refuses unknown fields and wrong types", async () => {
    const sim = newSim();
    const defaults = (await (await fetch(`${sim.url}/sim/config`)).json()) as Record<string, unknown>;
    expect(defaults).toEqual({
      ttft_ms: 0,
      tokens_per_second: 0,
      stream_interval: 1,
      cold_start_ms: 0,
      max_concurrent: null,
      fail_status: null,
      drop_after_tokens: null,
      error_after_tokens: null,
      hang: false,
      require_proxy_auth: false,
      min_tokens: null,
      final_answers: null,
      oracle: null,
      hint_leak_rate: 0.5,
      ...FLEET_CONFIG_DEFAULTS,
    });
    const set = await fetch(`${sim.url}/sim/config`, { method: "POST", body: JSON.stringify({ ttft_ms: 1000, max_concurrent: 2 }) });
    expect(await set.json()).toMatchObject({ ttft_ms: 1000, max_concurrent: 2 });
    await sim.configure({ ttft_ms: null });
    expect(await (await fetch(`${sim.url}/sim/config`)).json()).toEqual({ ...defaults, max_concurrent: 2 });
    for (const bad of [{ speed: 1 }, { ttft_ms: "slow" }, { hang: 1 }]) {
      const res = await fetch(`${sim.url}/sim/config`, { method: "POST", body: JSON.stringify(bad) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error).toMatchObject({ type: "BadRequestError", code: 400 });
    }
    await fetch(`${sim.url}/sim/reset`, { method: "POST" });
    expect(await (await fetch(`${sim.url}/sim/config`)).json()).toEqual(defaults);
  });

  it("keeps each instance's config to itself", async () => {
    const [a, b] = [newSim(), newSim()];
    await a.configure({ fail_status: 503 });
    expect((await fetch(`${a.url}/health`)).status).toBe(503);
    expect((await fetch(`${b.url}/health`)).status).toBe(200);
  });
});
