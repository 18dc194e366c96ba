/**
 * @module sim/lifecycle.test
 * A generation's life as the counters see it: accepted, sent, completed or
 * aborted. A client that leaves stops the generation at once, whether it was
 * streaming, queued or waiting for a non-streamed answer. Also proves the
 * simulator core runs inside workerd as well as under Node.
 */
import { describe, expect, it } from "vitest";
import { createSimulator } from "../../gpu/sim/simulator";
import { newSim, pollUntil, readSseData, type SimHandle } from "../helpers/sim";

/** vLLM's generation routes take application/json only. */
const JSON_HEADERS = { "content-type": "application/json" };
const ask = { model: "GAIR/LIMO", messages: [{ role: "user", content: "Find x if 3x + 5 = 20." }] };

function chat(sim: SimHandle, body: Record<string, unknown> = {}, init: RequestInit = {}): Promise<Response> {
  const headers = { ...JSON_HEADERS, ...(init.headers as Record<string, string> | undefined) };
  return fetch(`${sim.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ ...ask, ...body }), ...init, headers });
}

describe("stats", () => {
  it("count requests, refusals, completions and the tokens actually sent", async () => {
    const sim = newSim();
    const streamed = await readSseData(await chat(sim, { stream: true, stream_options: { include_usage: true } }));
    const usage = JSON.parse(streamed.at(-2)!).usage;
    const whole = (await (await chat(sim, { n: 2 })).json()) as any;
    expect((await chat(sim, { model: "nope" })).status).toBe(404);
    expect((await chat(sim, { temperature: -1 })).status).toBe(400);
    expect(await sim.waitForIdle()).toMatchObject({
      requests_total: 4,
      rejected_total: 2,
      completed_total: 2,
      aborted_total: 0,
      errored_total: 0,
      in_flight: 0,
      tokens_generated_total: usage.completion_tokens + whole.usage.completion_tokens,
      prompt_tokens_total: usage.prompt_tokens * 2,
      max_in_flight_seen: 1,
    });
  });

  it("start from zero again after /sim/reset", async () => {
    const sim = newSim();
    await chat(sim, { max_tokens: 1 }).then((r) => r.text());
    await fetch(`${sim.url}/sim/reset`, { method: "POST" });
    expect(await sim.stats()).toMatchObject({ requests_total: 0, completed_total: 0, tokens_generated_total: 0, last_request: null });
  });
});

describe("a client that goes away", () => {
  it("mid-stream stops the generation and is counted aborted", async () => {
    const sim = newSim();
    await sim.configure({ tokens_per_second: 20 });
    const res = await chat(sim, { stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    const idle = await sim.waitForIdle();
    expect(idle).toMatchObject({ aborted_total: 1, completed_total: 0, running: 0 });
    // Stopped at once: far fewer tokens than the 80-token minimum answer, and no more after.
    expect(idle.tokens_generated_total).toBeLessThan(20);
    await sim.configure({ tokens_per_second: null });
    expect((await sim.stats()).tokens_generated_total).toBe(idle.tokens_generated_total);
  });

  it("while queued leaves the queue", async () => {
    const sim = newSim();
    await sim.configure({ max_concurrent: 1, tokens_per_second: 50 });
    const first = await chat(sim, { stream: true, max_tokens: 15 });
    const leaving = new AbortController();
    const second = await chat(sim, { stream: true }, { signal: leaving.signal });
    await pollUntil(() => sim.stats(), (s) => s.waiting === 1);
    leaving.abort();
    await second.body?.cancel().catch(() => {});
    await pollUntil(() => sim.stats(), (s) => s.waiting === 0 && s.aborted_total === 1);
    await readSseData(first);
    expect(await sim.waitForIdle()).toMatchObject({ completed_total: 1, aborted_total: 1, max_running_seen: 1 });
  });

  it("before a non-streamed answer stops the generation too", async () => {
    const sim = newSim();
    await sim.configure({ tokens_per_second: 20 });
    const leaving = new AbortController();
    const pending = chat(sim, {}, { signal: leaving.signal }).catch(() => "aborted");
    await pollUntil(() => sim.stats(), (s) => s.tokens_generated_total > 0);
    leaving.abort();
    expect(await pending).toBe("aborted");
    expect(await sim.waitForIdle()).toMatchObject({ aborted_total: 1, completed_total: 0 });
  });
});

describe("the simulator core", () => {
  it("runs inside workerd too, with isolated instances", async () => {
    const sim = createSimulator({ models: ["GAIR/LIMO"], maxModelLen: 4096 });
    const res = await sim.fetch(
      new Request("http://sim/i/a/v1/chat/completions", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ ...ask, stream: true, max_tokens: 3 }) }),
    );
    expect((await readSseData(res)).at(-1)).toBe("[DONE]");
    const stats = async (id: string) => (await (await sim.fetch(new Request(`http://sim/i/${id}/sim/stats`))).json()) as any;
    expect((await stats("a")).completed_total).toBe(1);
    expect((await stats("b")).completed_total).toBe(0);
    const models = (await (await sim.fetch(new Request("http://sim/v1/models"))).json()) as any;
    expect(models.data.map((m: any) => [m.id, m.max_model_len])).toEqual([["GAIR/LIMO", 4096]]);
  });

  it("cancels the generation when the body is cancelled, with no server in between", async () => {
    const sim = createSimulator({ defaults: { tokens_per_second: 1000 } });
    const res = await sim.fetch(new Request("http://sim/v1/completions", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ prompt: "hi", stream: true }) }));
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    const stats = (await (await sim.fetch(new Request("http://sim/sim/stats"))).json()) as any;
    expect(stats).toMatchObject({ aborted_total: 1, in_flight: 0 });
  });
});
