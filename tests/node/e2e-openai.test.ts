/**
 * End to end: the official openai client against a running `npm run dev`.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simStats, startDevStack, untilSimAborted, type DevStack } from "./dev-stack";
import { contentChunks } from "../helpers/stream-interval";

let stack: DevStack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startDevStack();
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.devKey, maxRetries: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

describe("the openai SDK against npm run dev", () => {
  it("lists limo", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain("limo");
  });

  it("gets a non-streaming answer with a boxed final answer and consistent usage", async () => {
    const completion = await client.chat.completions.create({
      model: "limo",
      messages: [{ role: "user", content: "What is 6 times 7?" }],
    });
    expect(completion.choices[0]!.message.content).toMatch(/\\boxed\{.+\}/);
    const usage = completion.usage!;
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
  });

  it("streams many chunks with a usage chunk", async () => {
    const stream = await client.chat.completions.create({
      model: "limo",
      messages: [{ role: "user", content: "Sum the first ten odd numbers." }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) content++;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(content).toBeGreaterThan(5);
    // As vLLM streams at the deployment's --stream-interval: the first token alone, then N at a time.
    expect(content).toBe(contentChunks(usage!.completion_tokens));
  });

  it("uses /v1/completions", async () => {
    const completion = await client.completions.create({ model: "limo", prompt: "2+2=", max_tokens: 8 });
    expect(completion.choices[0]!.text.length).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBe(8);
  });

  it("raises the SDK's typed errors", async () => {
    const bad = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "limo_sk_wrong", maxRetries: 0 });
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(
      client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      client.chat.completions.create({ model: "limo", messages: [{ role: "user", content: "x" }], temperature: "hot" as never }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const unknown = await client.chat.completions
      .create({ model: "limo", messages: [{ role: "user", content: "x" }], foo: 1 } as never)
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.BadRequestError);
    expect((unknown as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("unknown_parameter");
  });

  it("answers a non-JSON body with OpenAI's envelope", async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(await res.json()).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_json" } });
  });

  it("stops the generation of a client that drops a stream after three chunks", async () => {
    const before = await simStats(stack.simUrl);
    await fetch(`${stack.simUrl}/sim/config`, { method: "POST", body: JSON.stringify({ tokens_per_second: 20 }) });
    try {
      const stream = await client.chat.completions.create({
        model: "limo",
        messages: [{ role: "user", content: "Count slowly." }],
        stream: true,
      });
      let seen = 0;
      // Leaving the loop early makes the SDK abort its request: the client goes away.
      for await (const _chunk of stream) if (++seen === 3) break;
      expect(seen).toBe(3);
      // The generation object waits out its reconnect grace (GENERATION_GRACE_MS, 2 s) before it stops the backend.
      const after = await untilSimAborted(stack.simUrl, before);
      expect(after.aborted_total).toBe(before.aborted_total + 1);
      expect(after.in_flight).toBe(0);
    } finally {
      await fetch(`${stack.simUrl}/sim/config`, { method: "POST", body: JSON.stringify({ tokens_per_second: null }) });
    }
  });
});
