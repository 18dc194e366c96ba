/**
 * Client conformance for the Responses API: the official `openai` package
 * (`responses.create` plain and streamed, the `responses.stream()` helper,
 * `retrieve`, `cancel`, background polling, a follow-up with
 * `previous_response_id`) and the Vercel AI SDK's default OpenAI provider
 * (`@ai-sdk/openai`'s `openai("limo")`, which calls `/v1/responses`), both
 * unmodified, against a running `npm run dev`. Usage the clients saw is the
 * ledger's, record for record. Keys come from the admin API.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account, CreatedApiKey } from "../../shared/admin";
import type { UsageRecord, UsageRecordList } from "../../shared/usage";
import { adminClient, devAdminToken, simStats, startDevStack, untilSimAborted, type AdminCall, type DevStack } from "./dev-stack";

let stack: DevStack;
let adminToken: string;

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const admin: AdminCall = (method, path, body) => adminClient(stack.url, adminToken)(method, path, body);

/** A new account and a live key for it. */
async function accountKey(): Promise<{ account: Account; key: string }> {
  const account = await admin<Account>("POST", "/accounts", { name: "Conformance (Responses)" });
  const { key } = await admin<CreatedApiKey>("POST", `/accounts/${account.id}/keys`, { name: "responses" });
  return { account, key };
}

/** The account's ledger as the usage API shows it (flushed first), waiting until it holds `count` records. */
async function ledger(accountId: string, count: number): Promise<UsageRecord[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const list = await admin<UsageRecordList>("GET", `/accounts/${accountId}/usage`);
    if (list.data.length >= count || Date.now() > deadline) return list.data;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const simConfig = (patch: Record<string, unknown>) => fetch(`${stack.simUrl}/sim/config`, { method: "POST", body: JSON.stringify(patch) });

beforeAll(async () => {
  stack = await startDevStack();
  adminToken = devAdminToken();
  expect(adminToken).toBeTruthy();
});

afterAll(async () => {
  await stack?.stop();
});

describe("the openai SDK: responses", () => {
  it("creates a response, retrieves it, and its usage is the ledger's one record", async () => {
    const { account, key } = await accountKey();
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const response = await client.responses.create({ model: "limo", input: "What is 6 times 7?", instructions: "Please reason step by step, and put your final answer within \\boxed{}." });
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe("completed");
    expect(response.output_text).toMatch(/\\boxed\{.+\}/);
    expect(response.output[0]).toMatchObject({ type: "message", role: "assistant" });
    expect((response as unknown as { final_answer: string | null }).final_answer).not.toBeNull();
    const retrieved = await client.responses.retrieve(response.id);
    expect(retrieved.output_text).toBe(response.output_text);
    const [record] = await ledger(account.id, 1);
    expect(record).toMatchObject({ endpoint: "responses", prompt_tokens: response.usage!.input_tokens, completion_tokens: response.usage!.output_tokens });
  });

  it("streams with stream: true, and the responses.stream() helper assembles the same kind of answer", async () => {
    const { key } = await accountKey();
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const stream = await client.responses.create({ model: "limo", input: "Sum the first ten odd numbers.", stream: true });
    let text = "";
    const types: string[] = [];
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") completed = event.response;
    }
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(completed!.output_text ?? completed!.output[0]!.type).toBeTruthy();
    expect(text).toMatch(/\\boxed/);

    const helper = client.responses.stream({ model: "limo", input: "What is 2 to the 10th?" });
    let deltas = "";
    helper.on("response.output_text.delta", (e) => (deltas += e.delta));
    const final = await helper.finalResponse();
    expect(final.status).toBe("completed");
    expect(final.output_text).toBe(deltas);
  });

  it("runs a background response that polling sees complete, then continues it with previous_response_id", async () => {
    const { account, key } = await accountKey();
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    let response = await client.responses.create({ model: "limo", input: "What is 17 + 25?", background: true });
    expect(["queued", "in_progress"]).toContain(response.status);
    const deadline = Date.now() + 30_000;
    while ((response.status === "queued" || response.status === "in_progress") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      response = await client.responses.retrieve(response.id);
    }
    expect(response.status).toBe("completed");
    const follow = await client.responses.create({ model: "limo", input: "Now double it.", previous_response_id: response.id });
    expect(follow.previous_response_id).toBe(response.id);
    // The follow-up's prompt holds the first turn's question and answer.
    expect(follow.usage!.input_tokens).toBeGreaterThan(response.usage!.input_tokens + response.usage!.output_tokens);
    const records = await ledger(account.id, 2);
    const seen = [response, follow].map((r) => [r.usage!.input_tokens, r.usage!.output_tokens]).sort();
    expect(records.map((r) => [r.prompt_tokens, r.completion_tokens]).sort()).toEqual(seen);
    expect(records.every((r) => r.endpoint === "responses")).toBe(true);
  });

  it("cancels a background response: the simulator's generation stops", async () => {
    const { key } = await accountKey();
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const before = await simStats(stack.simUrl);
    await simConfig({ tokens_per_second: 20 });
    try {
      const response = await client.responses.create({ model: "limo", input: "Count slowly.", background: true, max_output_tokens: 4000 });
      const cancelled = await client.responses.cancel(response.id);
      expect(cancelled.status).toBe("cancelled");
      const after = await untilSimAborted(stack.simUrl, before);
      expect(after.aborted_total).toBe(before.aborted_total + 1);
      expect(after.in_flight).toBe(0);
      expect((await client.responses.retrieve(response.id)).status).toBe("cancelled");
    } finally {
      await simConfig({ tokens_per_second: null });
    }
  });

  it("resumes a stream with retrieve(id, {stream, starting_after}), lists input items, and deletes", async () => {
    const { key } = await accountKey();
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of await client.responses.create({ model: "limo", input: "What is 11 squared?", stream: true })) events.push(event);
    const id = (events[0] as OpenAI.Responses.ResponseCreatedEvent).response.id;
    const resumed: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of await client.responses.retrieve(id, { stream: true, starting_after: 4 })) resumed.push(event);
    expect(resumed).toEqual(events.slice(5));
    const items = await client.responses.inputItems.list(id);
    expect(items.data).toHaveLength(1);
    expect(items.data[0]).toMatchObject({ type: "message", role: "user" });
    await client.responses.delete(id);
    const gone = await client.responses.retrieve(id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("refuses tools with a 400 the SDK raises as BadRequestError naming the field", async () => {
    const { key } = await accountKey();
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
    const error = await client.responses
      .create({ model: "limo", input: "hi", tools: [{ type: "function", name: "f", parameters: {}, strict: true }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("tools");
  });
});

describe("the Vercel AI SDK's default OpenAI provider (@ai-sdk/openai, the Responses API)", () => {
  it("generateText and streamText with openai(\"limo\") report the ledger's usage", async () => {
    const { account, key } = await accountKey();
    const openai = createOpenAI({ baseURL: `${stack.url}/v1`, apiKey: key });
    const generated = await generateText({ model: openai("limo"), prompt: "What is 9 times 9?", maxRetries: 0 });
    expect(generated.text).toMatch(/\\boxed/);
    expect(generated.usage.outputTokens).toBeGreaterThan(0);

    const streamed = streamText({ model: openai("limo"), prompt: "What is 3 cubed?", maxRetries: 0 });
    let text = "";
    for await (const part of streamed.textStream) text += part;
    expect(text).toMatch(/\\boxed/);
    const usage = await streamed.usage;
    expect(usage.outputTokens).toBeGreaterThan(0);

    // A second turn sends the first answer back as an item_reference (the provider's default with store).
    const followUp = await generateText({
      model: openai("limo"),
      messages: [{ role: "user", content: "What is 9 times 9?" }, ...generated.response.messages, { role: "user", content: "And plus one?" }],
      maxRetries: 0,
    });
    expect(followUp.text).toMatch(/\\boxed/);
    expect(followUp.usage.inputTokens).toBeGreaterThan(generated.usage.inputTokens! + generated.usage.outputTokens!);
    const sent = ((await (await fetch(`${stack.simUrl}/sim/stats`)).json()) as { last_request: { body: { messages: { role: string; content: string }[] } } }).last_request.body;
    expect(sent.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(sent.messages[2]!.content).toBe(generated.text);

    const records = await ledger(account.id, 3);
    const seen = [generated.usage, usage, followUp.usage].map((u) => [u.inputTokens, u.outputTokens]).sort();
    expect(records.map((r) => [r.prompt_tokens, r.completion_tokens]).sort()).toEqual(seen);
    expect(records.every((r) => r.endpoint === "responses")).toBe(true);
  });
});
