import { describe, expect, it } from "vitest";
import type { ChatCompletion } from "../../shared/openai";
import type { GenerationObject } from "../../shared/generations";
import { simBackends } from "../helpers/api";
import { adminApi } from "../helpers/admin";
import { limitedAccount } from "../helpers/limits";
import { pollUntil } from "../helpers/sim";
import { readEvents } from "../helpers/sse";
import { generationsClient } from "./client";

const ASK = { messages: [{ role: "user", content: "What is 12 + 30?" }], max_tokens: 40 };

describe("background mode", () => {
  it("answers at once and runs to completion; the status carries the whole completion", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ tokens_per_second: 200 });
    const res = await acct.chat({ ...ASK, background: true });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as GenerationObject;
    expect(accepted).toMatchObject({ object: "generation", status: "in_progress" });
    expect(res.headers.get("x-generation-id")).toBe(accepted.id);
    const get = async () => (await (await acct.a.withKey(acct.key, `/v1/generations/${accepted.id}`)).json()) as GenerationObject;
    const done = await pollUntil(get, (g) => g.status === "completed");
    const result = done.result as ChatCompletion;
    expect(result.object).toBe("chat.completion");
    expect(result.usage.completion_tokens).toBe(40);
    const ledger = await acct.settledLedger(1);
    expect(ledger[0]).toMatchObject({ status: "ok", completion_tokens: 40, cached: false });
    // The stream is there to read, from any event.
    const events = await readEvents(await acct.a.withKey(acct.key, `/v1/generations/${accepted.id}/stream`, { headers: { "last-event-id": "3" } }));
    expect(events.raw[0]).toMatch(/^id: 4\n/);
  });

  it("cancel stops the generation and its GPU work", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ tokens_per_second: 20 });
    const res = await acct.chat({ ...ASK, max_tokens: 2000, background: true });
    const { id } = (await res.json()) as GenerationObject;
    await pollUntil(() => acct.sim.stats(), (s) => s.tokens_generated_total > 2);
    const cancelled = await acct.a.withKey(acct.key, `/v1/generations/${id}/cancel`, { method: "POST" });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as GenerationObject).status).toBe("cancelled");
    const stats = await acct.sim.waitForIdle();
    expect(stats.aborted_total).toBe(1);
    const [entry] = await acct.settledLedger(1);
    expect(entry!.status).toBe("client_disconnected");
    expect(entry!.completion_tokens).toBeGreaterThan(0);
    expect(entry!.completion_tokens).toBeLessThan(2000);
  });
});

describe("disconnect policy", () => {
  it("cancels a foreground generation after the grace period once its last client left, billed for what was produced", async () => {
    const acct = await limitedAccount();
    // A short grace for the test (production: 2 s).
    const a = adminApi({ BACKENDS: simBackends(acct.sim.url), GENERATION_GRACE_MS: "200" });
    await acct.sim.configure({ tokens_per_second: 50 });
    const res = await a.withKey(acct.key, "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "limo", ...ASK, max_tokens: 2000, stream: true }),
    });
    await readEvents(res, 5);
    const stats = await acct.sim.waitForIdle();
    expect(stats.aborted_total).toBe(1);
    const [entry] = await acct.settledLedger(1);
    expect(entry).toMatchObject({ status: "client_disconnected", cached: false });
    expect(entry!.completion_tokens).toBeGreaterThanOrEqual(4);
    expect(entry!.completion_tokens).toBeLessThan(2000);
    expect(entry!.prompt_tokens).toBeGreaterThan(0);
  });

  it("lets a client that reconnects within the grace period resume, billed once for the whole answer", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ tokens_per_second: 200 });
    const client = generationsClient(acct);
    const res = await client.chat({ ...ASK, stream: true });
    const id = res.headers.get("x-generation-id")!;
    const head = await readEvents(res, 3);
    const lastId = /^id: (\d+)$/m.exec(head.raw.at(-1)!)![1]!;
    const tail = await readEvents(await client.get(`/v1/generations/${id}/stream`, { "last-event-id": lastId }));
    expect(tail.data.at(-1)).toBe("[DONE]");
    const [entry] = await acct.settledLedger(1);
    expect(entry).toMatchObject({ status: "ok", completion_tokens: 40, cached: false });
    expect((await acct.sim.stats()).aborted_total).toBe(0);
  });
});
