/**
 * `POST /v1/responses` through the chat pipeline: the response object as
 * OpenAI shapes it, its usage equal to the one ledger record (which names
 * the endpoint), the stream's events in order with their sequence numbers.
 */
import { describe, expect, it } from "vitest";
import type { ResponseObject } from "../../shared/openai-responses";
import { newClient, responseEvents } from "./client";

describe("POST /v1/responses", () => {
  it("answers a string input with a completed response whose usage is the ledger's one record", async () => {
    const client = await newClient();
    const res = await client.create({ input: "What is 6 times 7?", metadata: { lesson: "7" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    const body = (await res.json()) as ResponseObject;
    expect(body).toMatchObject({ object: "response", status: "completed", model: "limo", metadata: { lesson: "7" }, previous_response_id: null, store: true });
    expect(body.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(body.output).toHaveLength(1);
    const [message] = body.output;
    expect(message).toMatchObject({ type: "message", role: "assistant", status: "completed" });
    expect(message!.id).toMatch(/^msg_/);
    expect(message!.content[0]).toMatchObject({ type: "output_text", annotations: [] });
    expect(body.output_text).toBe(message!.content[0]!.text);
    expect(body.output_text).toMatch(/\\boxed\{.+\}/);
    expect(body.final_answer).not.toBeNull();
    const usage = body.usage!;
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    expect(usage.output_tokens_details.reasoning_tokens).toBe(0);

    const [record] = await client.account.settledLedger(1);
    expect(record).toMatchObject({
      endpoint: "responses",
      status: "ok",
      prompt_tokens: usage.input_tokens,
      completion_tokens: usage.output_tokens,
      request_id: res.headers.get("x-request-id"),
    });
  });

  it("streams the events in OpenAI's order, numbered from 0, and the completed response matches the deltas", async () => {
    const client = await newClient();
    const res = await client.create({ input: [{ role: "user", content: [{ type: "input_text", text: "Sum 1 to 10." }] }], stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const { events, names } = await responseEvents(res);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(names).toEqual(events.map((e) => e.type));
    const types = events.map((e) => e.type);
    const deltas = events.filter((e) => e.type === "response.output_text.delta");
    expect(deltas.length).toBeGreaterThan(1);
    expect(types).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      ...deltas.map(() => "response.output_text.delta"),
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const completed = events.at(-1)!.response!;
    const text = deltas.map((d) => d.delta).join("");
    expect(completed.output_text).toBe(text);
    expect(deltas.every((d) => d.item_id === completed.output[0]!.id && d.output_index === 0 && d.content_index === 0)).toBe(true);
    const [record] = await client.account.settledLedger(1);
    expect(record).toMatchObject({ endpoint: "responses", status: "ok", prompt_tokens: completed.usage!.input_tokens, completion_tokens: completed.usage!.output_tokens });

    // Stored: the same response, by its id.
    const again = (await (await client.get(`/v1/responses/${completed.id}`)).json()) as ResponseObject;
    expect(again).toEqual(completed);
  });

  it("names each endpoint on its ledger record, through the usage API too", async () => {
    const client = await newClient();
    const { account } = client;
    expect((await account.chat({ max_tokens: 4 })).status).toBe(200);
    const completion = await account.a.withKey(account.key, "/v1/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "limo", prompt: "2+2=", max_tokens: 4 }),
    });
    expect(completion.status).toBe(200);
    expect((await client.create({ input: "2+2?", max_output_tokens: 4 })).status).toBe(200);
    const ledger = await account.settledLedger(3);
    expect(ledger.map((r) => r.endpoint).sort()).toEqual(["chat.completions", "completions", "responses"]);
    const usage = await account.a.admin("GET", `/accounts/${account.accountId}/usage`);
    const records = ((await usage.json()) as { data: { endpoint: string | null }[] }).data;
    expect(records.map((r) => r.endpoint).sort()).toEqual(["chat.completions", "completions", "responses"]);
  });
});
