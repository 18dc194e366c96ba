/**
 * Client conformance: the official `openai` package, unmodified, against a
 * running `npm run dev`: chat and completions, streaming with usage, `n` > 1,
 * stop sequences, the SDK's typed errors, and 429 handling with Retry-After.
 * Keys come from the admin API, as a customer's would.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account, CreatedApiKey, Limits } from "../../shared/admin";
import { adminClient, devAdminToken, recordingFetch, startDevStack, type AdminCall, type DevStack } from "./dev-stack";
import { contentChunks } from "../helpers/stream-interval";

let stack: DevStack;
let adminToken: string;
let client: OpenAI;

const UNLIMITED: Limits = { requests_per_minute: null, tokens_per_minute: null, max_concurrent_requests: null, monthly_token_quota: null };
const ask = (content: string) => [{ role: "user" as const, content }];

const admin: AdminCall = (method, path, body) => adminClient(stack.url, adminToken)(method, path, body);

/** A new account with these limits, and a live key for it. */
async function accountKey(limits: Partial<Limits>): Promise<{ account: Account; key: string }> {
  const account = await admin<Account>("POST", "/accounts", { name: "Conformance (openai)" });
  await admin("PATCH", `/accounts/${account.id}`, { limits });
  const { key } = await admin<CreatedApiKey>("POST", `/accounts/${account.id}/keys`, { name: "openai sdk" });
  return { account, key };
}

/** Sends requests, ten at a time, until one is refused with a 429 (bounded). */
async function spendRequests(limited: OpenAI): Promise<void> {
  for (let sent = 0; sent < 300; sent += 10) {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => limited.chat.completions.create({ model: "limo", messages: ask("x"), max_tokens: 1 })),
    );
    if (results.some((r) => r.status === "rejected" && r.reason instanceof OpenAI.RateLimitError)) return;
  }
  throw new Error("never rate limited");
}

function clientFor(key: string, options: ConstructorParameters<typeof OpenAI>[0] = {}): OpenAI {
  return new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0, ...options });
}

beforeAll(async () => {
  stack = await startDevStack();
  // npm run dev adds ADMIN_TOKEN to .dev.vars from the example when it is missing.
  adminToken = devAdminToken();
  expect(adminToken).toBeTruthy();
  client = clientFor((await accountKey(UNLIMITED)).key);
});

afterAll(async () => {
  await stack?.stop();
});

describe("the openai SDK: generation", () => {
  it("creates a chat completion with consistent usage and our request id", async () => {
    const { data: completion, response } = await client.chat.completions
      .create({ model: "limo", messages: ask("What is 6 times 7?") })
      .withResponse();
    expect(response.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{24}$/);
    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toMatch(/^chatcmpl-/);
    const choice = completion.choices[0]!;
    expect(choice.message.role).toBe("assistant");
    expect(choice.message.content).toMatch(/\\boxed\{.+\}/);
    expect(choice.finish_reason).toBe("stop");
    const usage = completion.usage!;
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  });

  it("streams a chat completion with a final usage chunk, and the SDK's stream helper assembles it", async () => {
    const stream = await client.chat.completions.create({
      model: "limo",
      messages: ask("Sum the first ten odd numbers."),
      stream: true,
      stream_options: { include_usage: true },
    });
    let tokens = 0;
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined | null;
    let last: OpenAI.ChatCompletionChunk | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content;
      if (delta) {
        tokens++;
        text += delta;
      }
      usage = chunk.usage ?? usage;
      last = chunk;
    }
    expect(last!.choices).toEqual([]);
    // As vLLM streams at the deployment's --stream-interval: the first token alone, then N at a time.
    expect(tokens).toBe(contentChunks(usage!.completion_tokens));
    expect(text).toMatch(/\\boxed\{.+\}/);

    const helper = client.chat.completions.stream({ model: "limo", messages: ask("What is 2+2?"), max_tokens: 12, stream_options: { include_usage: true } });
    const final = await helper.finalChatCompletion();
    expect(final.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(final.choices[0]!.finish_reason).toBe("length");
    expect(final.usage?.completion_tokens).toBe(12);
  });

  it("creates text completions, streaming and not, with usage", async () => {
    const completion = await client.completions.create({ model: "limo", prompt: "2+2=", max_tokens: 8 });
    expect(completion.object).toBe("text_completion");
    expect(completion.choices[0]!.text.length).toBeGreaterThan(0);
    expect(completion.choices[0]!.finish_reason).toBe("length");
    expect(completion.usage).toMatchObject({ completion_tokens: 8 });

    const stream = await client.completions.create({ model: "limo", prompt: "2+2=", max_tokens: 8, stream: true, stream_options: { include_usage: true } });
    let tokens = 0;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.text) tokens++;
      usage = chunk.usage ?? usage;
    }
    expect(tokens).toBe(contentChunks(8));
    expect(usage?.completion_tokens).toBe(8);
  });

  it("answers n > 1 with n choices, and usage that sums them", async () => {
    const chat = await client.chat.completions.create({ model: "limo", messages: ask("What is 9*9?"), n: 3, max_tokens: 10 });
    expect(chat.choices.map((c) => c.index).sort()).toEqual([0, 1, 2]);
    expect(chat.choices.every((c) => c.message.content!.length > 0 && c.finish_reason === "length")).toBe(true);
    expect(chat.usage!.completion_tokens).toBe(30);

    const text = await client.completions.create({ model: "limo", prompt: "Once", n: 2, max_tokens: 5 });
    expect(text.choices.map((c) => c.index).sort()).toEqual([0, 1]);
    expect(text.usage!.completion_tokens).toBe(10);

    const stream = await client.chat.completions.create({ model: "limo", messages: ask("What is 9*9?"), n: 2, max_tokens: 6, stream: true, stream_options: { include_usage: true } });
    const perChoice = new Map<number, number>();
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      for (const c of chunk.choices) if (c.delta.content) perChoice.set(c.index, (perChoice.get(c.index) ?? 0) + 1);
      usage = chunk.usage ?? usage;
    }
    expect([...perChoice.entries()].sort()).toEqual([[0, contentChunks(6)], [1, contentChunks(6)]]);
    expect(usage?.completion_tokens).toBe(12);
  });

  it("stops at a stop sequence, leaving it out, in chat and completions, streaming or not", async () => {
    const base = { model: "limo", messages: ask("What is 6 times 7?"), max_tokens: 40, seed: 7, temperature: 0 } as const;
    const full = (await client.chat.completions.create(base)).choices[0]!.message.content!;
    // A word from the middle of the answer the same seed gives.
    const stop = full.split(" ")[4]!;
    const cut = full.slice(0, full.indexOf(stop));
    expect(cut.length).toBeGreaterThan(0);

    const stopped = (await client.chat.completions.create({ ...base, stop: [stop] })).choices[0]!;
    expect(stopped.message.content).toBe(cut);
    expect(stopped.finish_reason).toBe("stop");

    let streamed = "";
    let finish: string | null = null;
    for await (const chunk of await client.chat.completions.create({ ...base, stop, stream: true })) {
      streamed += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(streamed).toBe(cut);
    expect(finish).toBe("stop");

    const prompt = { model: "limo", prompt: "Count:", max_tokens: 30, seed: 3, temperature: 0 } as const;
    const whole = (await client.completions.create(prompt)).choices[0]!.text;
    const word = whole.split(" ")[3]!;
    const short = (await client.completions.create({ ...prompt, stop: [word, "never-appears"] })).choices[0]!;
    expect(short.text).toBe(whole.slice(0, whole.indexOf(word)));
    expect(short.finish_reason).toBe("stop");
  });

  it("lists and retrieves models", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(["limo", "limo-v2"]));
    expect((await client.models.retrieve("limo")).id).toBe("limo");
  });
});

describe("the openai SDK: errors", () => {
  it("raises AuthenticationError for a wrong or malformed key", async () => {
    for (const key of ["limo_sk_wrong", `limo_sk_${"0".repeat(65)}`, "sk-proj-abc"]) {
      const error = await clientFor(key).models.list().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(error).toMatchObject({ status: 401, code: "invalid_api_key", type: "invalid_request_error" });
      expect((error as InstanceType<typeof OpenAI.APIError>).requestID).toMatch(/^req_/);
    }
  });

  it("raises NotFoundError for an unknown model", async () => {
    const chat = await client.chat.completions.create({ model: "gpt-4o", messages: ask("x") }).catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(OpenAI.NotFoundError);
    expect(chat).toMatchObject({ status: 404, code: "model_not_found", param: "model" });
    await expect(client.models.retrieve("gpt-4o")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it.each([
    ["a wrong type", { temperature: "hot" }, "invalid_type", "temperature"],
    ["an unknown parameter", { temprature: 0 }, "unknown_parameter", "temprature"],
    ["tools the model would have to call", { tools: [{ type: "function", function: { name: "f" } }] }, "unsupported_parameter", "tools"],
    ["n over the maximum", { n: 9 }, "invalid_value", "n"],
    ["stream_options without stream", { stream_options: { include_usage: true } }, "invalid_value", "stream_options"],
    ["empty messages", { messages: [] }, "invalid_value", "messages"],
  ])("raises BadRequestError for %s, naming the parameter", async (_name, patch, code, param) => {
    const error = await client.chat.completions.create({ model: "limo", messages: ask("x"), ...patch } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code, param, type: "invalid_request_error" });
  });

  it("raises BadRequestError for a prompt that can never fit the context", async () => {
    const error = await client.chat.completions.create({ model: "limo", messages: ask("word ".repeat(110_000)) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ code: "context_length_exceeded" });
  });

  it("raises PermissionDeniedError for a suspended account, and works again once reactivated", async () => {
    const { account, key } = await accountKey(UNLIMITED);
    const suspended = clientFor(key);
    await admin("PATCH", `/accounts/${account.id}`, { status: "suspended" });
    const error = await suspended.chat.completions.create({ model: "limo", messages: ask("x"), max_tokens: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(error).toMatchObject({ status: 403, code: "account_suspended" });
    await admin("PATCH", `/accounts/${account.id}`, { status: "active" });
    expect((await suspended.chat.completions.create({ model: "limo", messages: ask("x"), max_tokens: 1 })).choices).toHaveLength(1);
  });
});

describe("the openai SDK: rate limits (429 with Retry-After)", () => {
  it("raises RateLimitError with retry-after and x-ratelimit-remaining-requests 0 when retries are off", async () => {
    const { key } = await accountKey({ requests_per_minute: 2 });
    const limited = clientFor(key);
    for (let i = 0; i < 2; i++) await limited.chat.completions.create({ model: "limo", messages: ask("x"), max_tokens: 1 });
    const error = await limited.chat.completions.create({ model: "limo", messages: ask("x"), max_tokens: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimited = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimited).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
    const retryAfter = Number(rateLimited.headers?.get("retry-after"));
    // 2 requests a minute refill one every 30 s.
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(rateLimited.headers?.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(rateLimited.headers?.get("x-ratelimit-limit-requests")).toBe("2");
  });

  it("retries after the Retry-After it was given, then succeeds", async () => {
    // 6 a minute: once the burst is spent, one request every 10 s, so a slow machine's
    // pause between spending the burst and asking again does not let a refill slip in.
    const { key } = await accountKey({ requests_per_minute: 6 });
    const burst = clientFor(key);
    const { calls, fetch: recording } = recordingFetch();
    const patient = clientFor(key, { maxRetries: 2, fetch: recording });
    // Spend the burst, then ask at once; if a refill slipped in between, spend it again (bounded).
    for (let attempt = 0; attempt < 3 && calls[0]?.status !== 429; attempt++) {
      await spendRequests(burst);
      calls.length = 0;
      const completion = await patient.chat.completions.create({ model: "limo", messages: ask("x"), max_tokens: 1 });
      expect(completion.choices).toHaveLength(1);
    }
    expect(calls[0]!.status).toBe(429);
    expect(calls.at(-1)!.status).toBe(200);
    // Each retry came no sooner than the wait the previous refusal asked for (50 ms of timer slack).
    for (let i = 1; i < calls.length; i++) {
      expect(calls[i]!.at - calls[i - 1]!.at).toBeGreaterThanOrEqual(calls[i - 1]!.retryAfterMs - 50);
    }
    expect(calls[0]!.retryAfterMs).toBeGreaterThanOrEqual(500);
    expect(calls[0]!.retryAfterMs).toBeLessThanOrEqual(10_000);
  });
});

describe("the openai SDK: tutor modes", () => {
  const problem = ask("A fair coin is tossed once. What is the probability that it lands heads?");
  const sim = (config: Record<string, unknown>) => fetch(`${stack.simUrl}/sim/config`, { method: "POST", body: JSON.stringify(config) });

  it("sends `tutor` as an extra body field and reads `tutor` back, JSON and streamed, the answer withheld", async () => {
    await sim({ final_answers: ["\\frac{1}{2}"], hint_leak_rate: 1 });
    try {
      // Extra body fields pass through the SDK untouched (a variable, so no excess-property check applies).
      const params = { model: "limo", messages: problem, tutor: { mode: "hint", reference_answer: "\\frac{1}{2}" } };
      const completion = (await client.chat.completions.create(params)) as OpenAI.ChatCompletion & { tutor?: { mode: string; redactions: number } };
      expect(completion.tutor).toMatchObject({ mode: "hint" });
      expect(completion.tutor!.redactions).toBeGreaterThan(0);
      expect(completion.choices[0]!.message.content).not.toMatch(/\\boxed|0\.5|1\/2|\\d?frac\{1\}\{2\}/);

      const streamed = { ...params, stream: true as const };
      let text = "";
      let tutor: unknown = null;
      for await (const chunk of await client.chat.completions.create(streamed)) {
        text += chunk.choices[0]?.delta.content ?? "";
        tutor ??= (chunk as typeof chunk & { tutor?: unknown }).tutor ?? null;
      }
      expect(tutor).toMatchObject({ mode: "hint", regenerations: 0 });
      expect(text).not.toMatch(/\\boxed|0\.5|1\/2|\\d?frac\{1\}\{2\}/);
    } finally {
      await sim({ final_answers: null, hint_leak_rate: null });
    }
  });

  it("raises BadRequestError naming the field for a tutor request it cannot guard", async () => {
    const params = { model: "limo", messages: problem, n: 2, tutor: { mode: "hint", reference_answer: "1" } };
    const err = await client.chat.completions.create(params).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("n");
  });
});

describe("the openai SDK: final_answer and vote (extensions it passes through)", () => {
  const simConfig = async (patch: Record<string, unknown>) => {
    const res = await fetch(`${stack.simUrl}/sim/config`, { method: "POST", body: JSON.stringify(patch) });
    expect(res.ok).toBe(true);
  };
  type AnswerChoice = { final_answer?: string | null };
  type Voted = { vote?: { answer: string | null; count: number; of: number; groups: { choices: number[] }[] } };

  it("reaches choice.final_answer and completion.vote, streamed and not, and a chat sends message back", async () => {
    await simConfig({ final_answers: ["\\frac{1}{2}", "0.5", "3"] });
    try {
      // `vote` is not in the SDK's types: extra body fields go through as they are.
      const completion = await client.chat.completions.create({ model: "limo", messages: ask("Half of one?"), n: 3, vote: true } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      expect(completion.choices.map((c) => (c as AnswerChoice).final_answer)).toEqual(["\\frac{1}{2}", "0.5", "3"]);
      const vote = (completion as Voted).vote!;
      expect(vote).toMatchObject({ answer: "\\frac{1}{2}", count: 2, of: 3 });
      expect(vote.groups.map((g) => g.choices)).toEqual([[0, 1], [2]]);

      const text = await client.completions.create({ model: "limo", prompt: "Half of one is", max_tokens: 400, vote: { n: 3 } } as OpenAI.CompletionCreateParamsNonStreaming);
      expect(text.choices.map((c) => (c as AnswerChoice).final_answer)).toEqual(["\\frac{1}{2}", "0.5", "3"]);
      expect((text as Voted).vote!.count).toBe(2);

      const stream = await client.chat.completions.create({ model: "limo", messages: ask("Half of one?"), n: 3, vote: true, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming);
      const finals: Record<number, string | null | undefined> = {};
      let streamedVote: Voted["vote"];
      for await (const chunk of stream) {
        for (const c of chunk.choices) if (c.finish_reason) finals[c.index] = (c as AnswerChoice).final_answer;
        if ((chunk as Voted).vote) streamedVote = (chunk as Voted).vote;
      }
      expect(finals).toEqual({ 0: "\\frac{1}{2}", 1: "0.5", 2: "3" });
      expect(streamedVote).toMatchObject({ answer: "\\frac{1}{2}", count: 2, of: 3 });

      // The returned message goes back into the history as it is.
      const followUp = await client.chat.completions.create({
        model: "limo",
        messages: [...ask("Half of one?"), completion.choices[0]!.message, ...ask("And twice that?")],
      });
      expect(followUp.choices[0]!.finish_reason).toBe("stop");
    } finally {
      await simConfig({ final_answers: null });
    }
  });

  it("checks a student's answer with POST /v1/answers/check (the SDK's generic post)", async () => {
    const result = await client.post<{ object: string; results: { equivalent: boolean | null; method: string }[] }>("/answers/check", {
      body: { reference: "\\frac{1}{2}", candidates: ["0.5", "I got one half", "2"], extract: true },
    });
    expect(result.object).toBe("answer.check");
    expect(result.results.map((r) => r.equivalent)).toEqual([true, true, false]);
    // The CAS step, through wrangler's own bundle in workerd (its dynamic import, no eval).
    const symbolic = await client.post<{ results: { equivalent: boolean | null; method: string }[] }>("/answers/check", {
      body: { reference: "(x+1)^2", candidates: ["x^2+2x+1", "x^2+1"] },
    });
    expect(symbolic.results.map((r) => [r.equivalent, r.method])).toEqual([[true, "symbolic"], [false, "symbolic"]]);
  });
});
