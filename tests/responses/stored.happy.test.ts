/**
 * Stored responses: background responses polled to their end, streams
 * resumed after a sequence number, follow-ups that continue a chain from its
 * stored turns, input items, deletion, and `store: false`.
 */
import { describe, expect, it } from "vitest";
import type { ResponseObject } from "../../shared/openai-responses";
import { errorOf } from "../helpers/api";
import { pollUntil } from "../helpers/sim";
import { newClient, responseEvents } from "./client";

const json = async (res: Response) => (await res.json()) as ResponseObject;

describe("stored responses", () => {
  it("a background response answers at once, then polls to completed, with one ledger record", async () => {
    const client = await newClient();
    await client.account.sim.configure({ tokens_per_second: 200 });
    const res = await client.create({ input: "Count the primes below 100.", background: true });
    expect(res.status).toBe(200);
    const created = await json(res);
    expect(["queued", "in_progress"]).toContain(created.status);
    expect(created.background).toBe(true);
    expect(created.output).toEqual([]);
    const done = await pollUntil(async () => json(await client.get(`/v1/responses/${created.id}`)), (r) => r.status === "completed", 10_000);
    expect(done.output_text).toMatch(/\\boxed/);
    const [record] = await client.account.settledLedger(1);
    expect(record).toMatchObject({ endpoint: "responses", prompt_tokens: done.usage!.input_tokens, completion_tokens: done.usage!.output_tokens });
  });

  it("resumes a stream after a sequence number with the very same events", async () => {
    const client = await newClient();
    const first = await responseEvents(await client.create({ input: "What is 12 squared?", stream: true }));
    const id = first.events[0]!.response!.id;
    const resumed = await responseEvents(await client.get(`/v1/responses/${id}?stream=true&starting_after=3`));
    expect(resumed.events).toEqual(first.events.slice(4));
  });

  it("continues a conversation from previous_response_id: each turn's input and answer become the history", async () => {
    const client = await newClient();
    let previous: ResponseObject | null = null;
    const turns = 20;
    for (let i = 0; i < turns; i++) {
      const res = await client.create({ input: `Turn ${i}: add ${i}.`, max_output_tokens: 40, ...(previous ? { previous_response_id: previous.id } : {}) });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body.previous_response_id).toBe(previous?.id ?? null);
      // The prompt grows by each earlier turn's input and answer.
      if (previous) expect(body.usage!.input_tokens).toBeGreaterThan(previous.usage!.input_tokens + previous.usage!.output_tokens);
      previous = body;
    }
    const last = (await client.account.sim.stats()).last_request?.body as { messages: { role: string }[] };
    // LIMO's system prompt, then each earlier turn's input and answer, then this turn's input.
    expect(last.messages).toHaveLength(1 + 2 * (turns - 1) + 1);
    expect(last.messages.map((m) => m.role).slice(0, 3)).toEqual(["system", "user", "assistant"]);
    const ledger = await client.account.settledLedger(turns);
    expect(ledger).toHaveLength(turns);
  });

  it("lists a response's input items, and deleting it ends the chain", async () => {
    const client = await newClient();
    const body = await json(
      await client.create({
        input: [
          { role: "developer", content: "Answer briefly." },
          { type: "message", role: "user", content: [{ type: "input_text", text: "What is 3+4?" }] },
        ],
      }),
    );
    const items = (await (await client.get(`/v1/responses/${body.id}/input_items?order=asc`)).json()) as { object: string; data: { id: string; role: string }[]; has_more: boolean };
    expect(items.object).toBe("list");
    expect(items.data.map((i) => i.role)).toEqual(["developer", "user"]);
    expect(items.has_more).toBe(false);
    const deleted = await client.delete(`/v1/responses/${body.id}`);
    expect(await deleted.json()).toEqual({ id: body.id, object: "response", deleted: true });
    expect((await client.get(`/v1/responses/${body.id}`)).status).toBe(404);
    const follow = await client.create({ input: "And times 2?", previous_response_id: body.id });
    expect(follow.status).toBe(404);
  });

  it("store: false keeps nothing: the response cannot be read or continued", async () => {
    const client = await newClient();
    const body = await json(await client.create({ input: "What is 9+10?", store: false }));
    expect(body.status).toBe("completed");
    expect(body.store).toBe(false);
    expect((await client.get(`/v1/responses/${body.id}`)).status).toBe(404);
    expect((await client.create({ input: "again", previous_response_id: body.id })).status).toBe(404);
    const res = await client.create({ input: "What is 9+10?", store: false, stream: true });
    const generationId = res.headers.get("x-generation-id")!;
    const streamed = await responseEvents(res);
    const id = streamed.events.at(-1)!.response!.id;
    expect((await client.get(`/v1/responses/${id}`)).status).toBe(404);
    // The generation that streamed it is forgotten once the stream ended: nothing to resume.
    await pollUntil(async () => (await client.get(`/v1/generations/${generationId}`)).status, (status) => status === 404);
    expect((await client.get(`/v1/generations/${generationId}/stream`)).status).toBe(404);
  });
});

describe("item references", () => {
  it("resolve to the stored items they name, as the AI SDK sends earlier answers back", async () => {
    const client = await newClient();
    const first = await json(await client.create({ input: "What is 5 times 3?" }));
    const res = await client.create({
      input: [
        { role: "user", content: "What is 5 times 3?" },
        { type: "item_reference", id: first.output[0]!.id },
        { role: "user", content: "And plus 1?" },
      ],
    });
    expect(res.status).toBe(200);
    const sent = (await client.account.sim.stats()).last_request?.body as { messages: { role: string; content: string }[] };
    expect(sent.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(sent.messages[2]!.content).toBe(first.output_text);
  });

  it("is a 404 naming the item for an id that is not stored for this account", async () => {
    const owner = await newClient();
    const other = await newClient();
    const first = await json(await owner.create({ input: "What is 5 times 3?" }));
    for (const id of [first.output[0]!.id, "msg_00000000000000000000000000000000_0", "nonsense"]) {
      const res = await other.create({ input: [{ type: "item_reference", id }, { role: "user", content: "Go on." }] });
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toMatchObject({ code: "not_found", param: "input[0].id" });
    }
  });
});
