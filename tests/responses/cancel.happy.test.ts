/**
 * `POST /v1/responses/{id}/cancel` stops the generation and the GPU work:
 * the simulator sees its request end before its answer did, the response is
 * `cancelled`, and the ledger bills what was produced.
 */
import { describe, expect, it } from "vitest";
import type { ResponseObject } from "../../shared/openai-responses";
import { pollUntil } from "../helpers/sim";
import { newClient, responseEvents } from "./client";

describe("cancelling a response", () => {
  it("stops a background response's generation at the backend", async () => {
    const client = await newClient();
    const { sim } = client.account;
    await sim.configure({ tokens_per_second: 20 });
    const created = (await (await client.create({ input: "List the primes below 10,000.", background: true, max_output_tokens: 2000 })).json()) as ResponseObject;
    await pollUntil(() => sim.stats(), (s) => s.running === 1 && s.tokens_generated_total > 0);
    const res = await client.post(`/v1/responses/${created.id}/cancel`);
    expect(res.status).toBe(200);
    const cancelled = (await res.json()) as ResponseObject;
    expect(cancelled.status).toBe("cancelled");
    const stats = await sim.waitForIdle();
    expect(stats.aborted_total).toBe(1);
    expect(stats.completed_total).toBe(0);
    expect(((await (await client.get(`/v1/responses/${created.id}`)).json()) as ResponseObject).status).toBe("cancelled");
    const [record] = await client.account.settledLedger(1);
    expect(record).toMatchObject({ endpoint: "responses", status: "client_disconnected" });
    expect(record!.completion_tokens).toBeLessThan(2000);
  });

  it("stops a deleted response's generation too, bills what was produced, and forgets its events", async () => {
    const client = await newClient();
    const { sim } = client.account;
    await sim.configure({ tokens_per_second: 20 });
    const res = await client.create({ input: "List the primes below 10,000.", background: true, max_output_tokens: 2000 });
    const generationId = res.headers.get("x-generation-id");
    expect(generationId).toMatch(/^gen_/);
    const created = (await res.json()) as ResponseObject;
    await pollUntil(() => sim.stats(), (s) => s.running === 1 && s.tokens_generated_total > 0);
    const deleted = await client.delete(`/v1/responses/${created.id}`);
    expect(await deleted.json()).toEqual({ id: created.id, object: "response", deleted: true });
    const stats = await sim.waitForIdle();
    expect(stats.aborted_total).toBe(1);
    expect(stats.completed_total).toBe(0);
    expect((await client.get(`/v1/responses/${created.id}`)).status).toBe(404);
    expect((await client.delete(`/v1/responses/${created.id}`)).status).toBe(404);
    // Its generation's events went with it: nothing of the deleted answer stays readable.
    expect((await client.get(`/v1/generations/${generationId}`)).status).toBe(404);
    const [record] = await client.account.settledLedger(1);
    expect(record).toMatchObject({ endpoint: "responses", status: "client_disconnected" });
    expect(record!.completion_tokens).toBeGreaterThan(0);
    expect(record!.completion_tokens).toBeLessThan(2000);
  });

  it("ends a stream reading the cancelled response with an error event and response.failed", async () => {
    const client = await newClient();
    await client.account.sim.configure({ tokens_per_second: 20 });
    const created = (await (await client.create({ input: "List the primes below 10,000.", background: true, max_output_tokens: 2000 })).json()) as ResponseObject;
    const reading = responseEvents(await client.get(`/v1/responses/${created.id}?stream=true`));
    await pollUntil(() => client.account.sim.stats(), (s) => s.tokens_generated_total > 0);
    await client.post(`/v1/responses/${created.id}/cancel`);
    const { events } = await reading;
    expect(events.at(-2)).toMatchObject({ type: "error", code: "generation_cancelled" });
    expect(events.at(-1)).toMatchObject({ type: "response.failed", response: { status: "cancelled" } });
  });
});
