import { describe, expect, it } from "vitest";
import { api, errorOf, simBackends } from "../helpers/api";
import { newSim, pollUntil } from "../helpers/sim";
import { readEvents } from "../helpers/sse";

const ask = { model: "limo", messages: [{ role: "user", content: "Prove that 2 is prime." }] };

function setup() {
  const sim = newSim();
  return { sim, a: api({ BACKENDS: simBackends(sim.url) }) };
}

describe("backend failures before the first token", () => {
  it.each([
    [500, 502, "backend_error"],
    [502, 502, "backend_error"],
    [503, 503, "backend_unavailable"],
    [429, 503, "server_busy"],
  ])("maps a backend %i to a %i %s with Retry-After", async (failStatus, status, code) => {
    const { sim, a } = setup();
    await sim.configure({ fail_status: failStatus });
    for (const stream of [false, true]) {
      const res = await a.post("/v1/chat/completions", { ...ask, stream });
      expect(res.status).toBe(status);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      const error = await errorOf(res);
      expect(error.code).toBe(code);
      expect(error.type).toBe("server_error");
    }
  });

  it("passes a backend 400 through with its message", async () => {
    const { sim, a } = setup();
    await sim.configure({ fail_status: 400 });
    const res = await a.post("/v1/chat/completions", ask);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.type).toBe("invalid_request_error");
    expect(error.message.length).toBeGreaterThan(0);
  });

  it("treats Modal's proxy-auth refusal as our misconfiguration (502), never the client's", async () => {
    const { sim, a } = setup();
    await sim.configure({ require_proxy_auth: true });
    const res = await a.post("/v1/chat/completions", ask);
    expect(res.status).toBe(502);
    const error = await errorOf(res);
    expect(error.code).toBe("backend_error");
    expect(error.message).not.toMatch(/modal|401|key|secret/i);
  });

  it("sends Modal's proxy-auth headers when configured", async () => {
    const sim = newSim();
    await sim.configure({ require_proxy_auth: true });
    const a = api({ BACKENDS: simBackends(sim.url), MODAL_KEY: "wk-test", MODAL_SECRET: "ws-test" });
    expect((await a.post("/v1/chat/completions", { ...ask, max_tokens: 3 })).status).toBe(200);
  });

  it("answers a refused connection with 503 and Retry-After", async () => {
    const a = api({ BACKENDS: simBackends("http://127.0.0.1:9") });
    const res = await a.post("/v1/chat/completions", ask);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBeTruthy();
    expect((await errorOf(res)).code).toBe("backend_unavailable");
  });

  it("answers a cold backend with 503 and Retry-After", async () => {
    const { sim, a } = setup();
    await sim.configure({ cold_start_ms: 60_000 });
    const res = await a.post("/v1/chat/completions", ask);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBeTruthy();
  });
});

describe("backend failures mid-stream", () => {
  it("turns an in-stream error into an error event and a clean end (streaming)", async () => {
    const { a, sim } = setup();
    await sim.configure({ error_after_tokens: 5 });
    const res = await a.post("/v1/chat/completions", { ...ask, stream: true });
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    expect(events.data).not.toContain("[DONE]");
    const last = JSON.parse(events.data.at(-1)!) as { error: { code: string; message: string } };
    expect(last.error.code).toBe("backend_error");
    expect(last.error.message).not.toMatch(/InternalServerError/);
  });

  it("turns an in-stream error into a 502 for a non-streaming client", async () => {
    const { a, sim } = setup();
    await sim.configure({ error_after_tokens: 5 });
    const res = await a.post("/v1/chat/completions", ask);
    expect(res.status).toBe(502);
    expect((await errorOf(res)).code).toBe("backend_error");
  });

  it("treats a stream cut without [DONE] as an error, not a success", async () => {
    const { a, sim } = setup();
    await sim.configure({ drop_after_tokens: 5 });
    const streamed = await readEvents(await a.post("/v1/chat/completions", { ...ask, stream: true }));
    expect(streamed.data).not.toContain("[DONE]");
    expect(JSON.parse(streamed.data.at(-1)!)).toMatchObject({ error: { code: "backend_error" } });
    const res = await a.post("/v1/chat/completions", ask);
    expect(res.status).toBe(502);
  });
});

describe("client disconnects", () => {
  it("aborts the upstream generation when a streaming client goes away after three chunks", async () => {
    const { a, sim } = setup();
    await sim.configure({ tokens_per_second: 200 });
    const res = await a.post("/v1/chat/completions", { ...ask, stream: true });
    const events = await readEvents(res, 3);
    expect(events.data).toHaveLength(3);
    const stats = await sim.waitForIdle();
    expect(stats.aborted_total).toBe(1);
    expect(stats.completed_total).toBe(0);
    expect(stats.in_flight).toBe(0);
  });

  it("aborts a generation the backend has not started answering", async () => {
    const { a, sim } = setup();
    await sim.configure({ hang: true });
    const controller = new AbortController();
    const pending = a.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${a.env.DEV_API_KEY}` },
      body: JSON.stringify(ask),
      signal: controller.signal,
    });
    await pollUntil(sim.stats, (s) => s.in_flight === 1);
    controller.abort();
    await pending.catch(() => undefined);
    const stats = await sim.waitForIdle();
    expect(stats.aborted_total).toBe(1);
  });
});
