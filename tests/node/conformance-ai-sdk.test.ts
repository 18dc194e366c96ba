/**
 * Client conformance: the Vercel AI SDK (`ai` with `@ai-sdk/openai-compatible`),
 * unmodified, against a running `npm run dev`: generateText and streamText on
 * the chat and the completion model, usage while streaming (the provider's
 * `includeUsage`), stop sequences, errors as APICallError with the status, and
 * a 429 retried after its Retry-After. Keys come from the admin API.
 */
import { join } from "node:path";
import { createOpenAICompatible, type OpenAICompatibleProvider } from "@ai-sdk/openai-compatible";
import { APICallError, generateText, streamText } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account, CreatedApiKey, Limits } from "../../shared/admin";
import { adminClient, devAdminToken, recordingFetch, startDevStack, type AdminCall, type DevStack } from "./dev-stack";
import { contentChunks } from "../helpers/stream-interval";

let stack: DevStack;
let adminToken: string;
let limo: OpenAICompatibleProvider;

const UNLIMITED: Limits = { requests_per_minute: null, tokens_per_minute: null, max_concurrent_requests: null, monthly_token_quota: null };

// The SDK prints its warnings (e.g. "toolChoice is not supported" by completion models) unless told not to.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const admin: AdminCall = (method, path, body) => adminClient(stack.url, adminToken)(method, path, body);

/** A new account with these limits, and a live key for it. */
async function accountKey(limits: Partial<Limits>): Promise<string> {
  const account = await admin<Account>("POST", "/accounts", { name: "Conformance (AI SDK)" });
  await admin("PATCH", `/accounts/${account.id}`, { limits });
  return (await admin<CreatedApiKey>("POST", `/accounts/${account.id}/keys`, { name: "ai sdk" })).key;
}

function provider(apiKey: string, options: { fetch?: typeof fetch } = {}): OpenAICompatibleProvider {
  return createOpenAICompatible({ name: "limo", baseURL: `${stack.url}/v1`, apiKey, includeUsage: true, ...options });
}

/** Sends requests, ten at a time, until one is refused; returns that refusal (bounded). */
async function spend(limited: OpenAICompatibleProvider): Promise<unknown> {
  for (let sent = 0; sent < 300; sent += 10) {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => generateText({ model: limited("limo"), prompt: "x", maxOutputTokens: 1, maxRetries: 0 })),
    );
    const refusal = results.find((r) => r.status === "rejected");
    if (refusal) return refusal.reason;
  }
  throw new Error("never rate limited");
}

/** The error a call failed with (generateText throws it; streamText hands it to onError). */
async function failure(run: () => Promise<unknown>): Promise<unknown> {
  return run().then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
}

beforeAll(async () => {
  stack = await startDevStack();
  adminToken = devAdminToken();
  expect(adminToken).toBeTruthy();
  limo = provider(await accountKey(UNLIMITED));
});

afterAll(async () => {
  await stack?.stop();
});

describe("the AI SDK: generation", () => {
  it("generateText on the chat model returns the answer, its finish reason and usage", async () => {
    const result = await generateText({ model: limo("limo"), prompt: "What is 6 times 7?", maxRetries: 0 });
    expect(result.text).toMatch(/\\boxed\{.+\}/);
    expect(result.finishReason).toBe("stop");
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(result.usage.totalTokens).toBe(result.usage.inputTokens! + result.usage.outputTokens!);
    expect(result.response.headers?.["x-request-id"]).toMatch(/^req_/);

    const capped = await generateText({ model: limo("limo"), system: "Answer briefly.", prompt: "What is 2+2?", maxOutputTokens: 10, maxRetries: 0 });
    expect(capped.finishReason).toBe("length");
    expect(capped.usage.outputTokens).toBe(10);
  });

  it("streamText on the chat model streams the text and reports usage (includeUsage)", async () => {
    const result = streamText({ model: limo("limo"), prompt: "Sum the first ten odd numbers.", maxOutputTokens: 25, maxRetries: 0 });
    const parts: string[] = [];
    for await (const delta of result.textStream) parts.push(delta);
    const usage = await result.usage;
    // As vLLM streams at the deployment's --stream-interval: the first token alone, then N at a time.
    expect(parts.length).toBe(contentChunks(25));
    expect(usage.outputTokens).toBe(25);
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(await result.finishReason).toBe("length");
    expect(await result.text).toBe(parts.join(""));
  });

  it("generateText and streamText on the completion model, with usage", async () => {
    const generated = await generateText({ model: limo.completionModel("limo"), prompt: "2+2=", maxOutputTokens: 8, maxRetries: 0 });
    expect(generated.text.length).toBeGreaterThan(0);
    expect(generated.usage.outputTokens).toBe(8);

    const streamed = streamText({ model: limo.completionModel("limo"), prompt: "2+2=", maxOutputTokens: 8, maxRetries: 0 });
    let deltas = 0;
    for await (const _delta of streamed.textStream) deltas++;
    expect(deltas).toBe(contentChunks(8));
    expect((await streamed.usage).outputTokens).toBe(8);
  });

  it("stops at a stop sequence, leaving it out", async () => {
    const base = { model: limo("limo"), prompt: "What is 6 times 7?", maxOutputTokens: 40, seed: 11, temperature: 0, maxRetries: 0 };
    const full = (await generateText(base)).text;
    const stop = full.split(" ")[4]!;
    const cut = full.slice(0, full.indexOf(stop));
    const stopped = await generateText({ ...base, stopSequences: [stop] });
    expect(stopped.text).toBe(cut);
    expect(stopped.finishReason).toBe("stop");

    const streamed = streamText({ ...base, stopSequences: [stop] });
    expect(await streamed.text).toBe(cut);
    expect(await streamed.finishReason).toBe("stop");
  });
});

describe("the AI SDK: errors", () => {
  it.each([
    ["a wrong key", () => provider("limo_sk_wrong")("limo"), {}, 401, "invalid_api_key"],
    ["an unknown model", () => limo("gpt-4o"), {}, 404, "model_not_found"],
    ["an out-of-range setting", () => limo("limo"), { temperature: 5 }, 400, "invalid_value"],
  ])("generateText raises APICallError for %s with its status", async (_name, model, settings, status, code) => {
    const error = await failure(() => generateText({ model: model(), prompt: "x", maxRetries: 0, ...settings }));
    expect(APICallError.isInstance(error)).toBe(true);
    const call = error as APICallError;
    expect(call.statusCode).toBe(status);
    expect(call.isRetryable).toBe(false);
    expect(JSON.parse(call.responseBody!)).toMatchObject({ error: { code, type: "invalid_request_error" } });
    expect(call.message.length).toBeGreaterThan(0);
  });

  it("streamText reports APICallError with the status to onError", async () => {
    const errors: unknown[] = [];
    const result = streamText({ model: provider("limo_sk_wrong")("limo"), prompt: "x", maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    for await (const _part of result.fullStream) {
      // drain
    }
    expect(errors).toHaveLength(1);
    expect(APICallError.isInstance(errors[0])).toBe(true);
    expect((errors[0] as APICallError).statusCode).toBe(401);
  });
});

describe("the AI SDK: rate limits (429 with Retry-After)", () => {
  it("raises a retryable APICallError 429 carrying retry-after, and its retry waits for it", async () => {
    // 60 a minute: once the burst is spent, one request every second.
    const key = await accountKey({ requests_per_minute: 60 });
    const { calls, fetch: recording } = recordingFetch();
    const limited = provider(key, { fetch: recording });
    const refusal = await spend(limited);
    expect(APICallError.isInstance(refusal)).toBe(true);
    const call = refusal as APICallError;
    expect(call.statusCode).toBe(429);
    expect(call.isRetryable).toBe(true);
    expect(Number(call.responseHeaders?.["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(call.responseHeaders?.["x-ratelimit-remaining-requests"]).toBe("0");

    calls.length = 0;
    let result = await generateText({ model: limited("limo"), prompt: "x", maxOutputTokens: 1, maxRetries: 2 });
    // If a refill slipped in before that call, spend the burst again and ask again (bounded).
    for (let attempt = 0; attempt < 2 && calls[0]?.status !== 429; attempt++) {
      await spend(limited);
      calls.length = 0;
      result = await generateText({ model: limited("limo"), prompt: "x", maxOutputTokens: 1, maxRetries: 2 });
    }
    expect(result.text.length).toBeGreaterThan(0);
    expect(calls[0]!.status).toBe(429);
    expect(calls.at(-1)!.status).toBe(200);
    for (let i = 1; i < calls.length; i++) {
      expect(calls[i]!.at - calls[i - 1]!.at).toBeGreaterThanOrEqual(calls[i - 1]!.retryAfterMs - 50);
    }
  });
});
