/**
 * Client conformance for what today's clients send (issue 19), with the real
 * libraries, unmodified, against one running `npm run dev`: a multi-turn
 * tutoring chat whose history comes from the openai package's stream helper
 * and from an OpenAI-shaped export; LangChain two-turn history; llamaindex
 * chat; structured outputs through openai's `chat.completions.parse` (zod),
 * LangChain's `withStructuredOutput(..., {method: "jsonMode"})` and the AI
 * SDK's `generateObject` / `Output.object`; and the field table, one request
 * per field of OpenAI's schemas, accepted or refused as documented.
 */
import { createOpenAI } from "@ai-sdk/openai";
import { AIMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { OpenAI as LlamaOpenAI } from "@llamaindex/openai";
import { generateObject, generateText, Output } from "ai";
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { ChatCompletionRequest, CompletionRequest } from "../../shared/openai";
import { CHAT_FIELDS, COMPLETION_FIELDS } from "../../worker/generations/openai-fields";
import { startDevStack, type DevStack } from "./dev-stack";

let stack: DevStack;
let client: OpenAI;

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

/** Short answers keep the stack quick; LIMO's are long by default. */
const MAX_TOKENS = 24;

beforeAll(async () => {
  stack = await startDevStack();
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.devKey, maxRetries: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

describe("histories that come back", () => {
  it("a tutoring loop pushes back what .stream()'s finalChatCompletion() returns, three turns", async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: "developer", content: "You are a patient maths tutor." },
      { role: "user", content: "What is 12 times 12?" },
    ];
    for (const next of ["Why?", "And 13 times 13?"]) {
      const final = await client.chat.completions.stream({ model: "limo", messages, max_tokens: MAX_TOKENS }).finalChatCompletion();
      const message = final.choices[0]!.message;
      // The helper's message carries output-only fields (refusal, parsed); they go back as they are.
      expect(message).toHaveProperty("refusal");
      expect(message.content!.length).toBeGreaterThan(0);
      messages.push(message as OpenAI.ChatCompletionMessageParam, { role: "user", content: next });
    }
    const last = await client.chat.completions.create({ model: "limo", messages, max_tokens: MAX_TOKENS });
    expect(last.choices[0]!.message.content!.length).toBeGreaterThan(0);
  });

  it("accepts a history exported from OpenAI (refusal: null, annotations: [], audio/function_call null, tool_calls [])", async () => {
    const exported = [
      { role: "system", content: "Please reason step by step." },
      { role: "user", content: "What is 2+2?" },
      {
        role: "assistant",
        content: "2+2 = \\boxed{4}",
        refusal: null,
        annotations: [],
        audio: null,
        function_call: null,
        tool_calls: [],
        reasoning_content: "Adding.",
      },
      { role: "user", content: "And 3+3?", name: "student_7" },
    ];
    const answer = await client.chat.completions.create({ model: "limo", messages: exported as never, max_tokens: MAX_TOKENS });
    expect(answer.choices[0]!.message.content!.length).toBeGreaterThan(0);
  });

  it("refuses an assistant turn with content: null and no tool calls, naming it", async () => {
    const error = await client.chat.completions
      .create({ model: "limo", messages: [{ role: "user", content: "x" }, { role: "assistant", content: null }, { role: "user", content: "y" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: "messages[1].content" });
  });

  it("still refuses a misspelled field, naming it", async () => {
    const error = await client.chat.completions.create({ model: "limo", messages: [{ role: "user", content: "x" }], temprature: 0 } as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: "unknown_parameter", param: "temprature" });
  });

  it("LangChain keeps a two-turn history", async () => {
    const chat = new ChatOpenAI({ model: "limo", apiKey: stack.devKey, configuration: { baseURL: `${stack.url}/v1` }, maxTokens: MAX_TOKENS, maxRetries: 0 });
    const history = [new SystemMessage("You are a maths tutor."), new HumanMessage("What is 5 squared?")];
    const first = await chat.invoke(history);
    expect(String(first.content).length).toBeGreaterThan(0);
    const second = await chat.invoke([...history, new AIMessage(first), new HumanMessage("And 6 squared?")]);
    expect(String(second.content).length).toBeGreaterThan(0);
  });

  it("llamaindex chats, history included", async () => {
    const llm = new LlamaOpenAI({ model: "limo", apiKey: stack.devKey, baseURL: `${stack.url}/v1`, maxTokens: MAX_TOKENS, maxRetries: 0 });
    const first = await llm.chat({ messages: [{ role: "user", content: "What is 9 minus 4?" }] });
    expect(String(first.message.content).length).toBeGreaterThan(0);
    const second = await llm.chat({ messages: [{ role: "user", content: "What is 9 minus 4?" }, first.message, { role: "user", content: "Why?" }] });
    expect(String(second.message.content).length).toBeGreaterThan(0);
  });
});

const Feedback = z.object({ correct: z.boolean(), feedback: z.string() });

describe("structured outputs", () => {
  it("openai's chat.completions.parse with a zod schema", async () => {
    const parsed = await client.chat.completions.parse({
      model: "limo",
      messages: [{ role: "user", content: "Is 7 times 8 equal to 56? Answer as JSON." }],
      response_format: zodResponseFormat(Feedback, "feedback"),
    });
    const value = parsed.choices[0]!.message.parsed;
    expect(Feedback.safeParse(value).success).toBe(true);
  });

  it("LangChain's withStructuredOutput in jsonMode", async () => {
    const chat = new ChatOpenAI({ model: "limo", apiKey: stack.devKey, configuration: { baseURL: `${stack.url}/v1` }, maxRetries: 0 });
    const structured = chat.withStructuredOutput(z.object({ answer: z.string(), reasoning: z.string() }), { method: "jsonMode" });
    const value = await structured.invoke("What is 3 plus 4? Reply as a JSON object with answer and reasoning.");
    expect(typeof value.answer).toBe("string");
  });

  it("the AI SDK's generateObject and Output.object", async () => {
    const provider = createOpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.devKey });
    const { object } = await generateObject({ model: provider.chat("limo"), schema: Feedback, prompt: "Is 2+2=5? Give feedback.", maxRetries: 0 });
    expect(Feedback.safeParse(object).success).toBe(true);
    const { output } = await generateText({
      model: provider.chat("limo"),
      output: Output.object({ schema: Feedback }),
      prompt: "Is 10/2=5? Give feedback.",
      maxRetries: 0,
      providerOptions: { openai: { safetyIdentifier: "student-42" } },
    });
    expect(Feedback.safeParse(output).success).toBe(true);
  });

  it("json_object answers are JSON objects, and free text is another request (response_format is in the cache key)", async () => {
    const body = { model: "limo", messages: [{ role: "user" as const, content: "1+1 as JSON" }], temperature: 0, max_tokens: 200 };
    const json = await client.chat.completions.create({ ...body, response_format: { type: "json_object" } });
    expect(typeof JSON.parse(json.choices[0]!.message.content!)).toBe("object");
    // Cacheable (temperature 0), same messages: a key without response_format would replay the JSON here.
    const text = await client.chat.completions.create({ ...body, response_format: { type: "text" } });
    expect(() => JSON.parse(text.choices[0]!.message.content!)).toThrow();
  });
});

/** One value per field of OpenAI's chat schema, and whether the field table refuses it. */
const CHAT_SAMPLES: { [K in keyof ChatCompletionRequest]-?: [value: unknown, refused: boolean][] } = {
  model: [["limo", false]],
  messages: [
    [[{ role: "developer", content: "Be brief." }, { role: "user", content: "1+1?" }], false],
    [[{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x.test/a.png" } }] }], true],
    [[{ role: "tool", content: "42", tool_call_id: "c1" }], true],
  ],
  max_tokens: [[4, false]],
  max_completion_tokens: [[4, false]],
  temperature: [[0.2, false]],
  top_p: [[0.9, false]],
  top_k: [[20, false]],
  min_p: [[0.05, false]],
  n: [[2, false]],
  stop: [[["\n\n"], false]],
  seed: [[7, false]],
  presence_penalty: [[0.1, false]],
  frequency_penalty: [[0.1, false]],
  repetition_penalty: [[1.05, false]],
  logit_bias: [[{ "1000": -100 }, false]],
  stream: [[false, false]],
  stream_options: [[{ include_usage: true, include_obfuscation: false }, false]],
  user: [["student-1", false]],
  safety_identifier: [["hashed-student-1", false]],
  background: [[false, false]],
  cache: [[{ enabled: false }, false]],
  tutor: [[{ mode: "hint", reference_answer: "2" }, false]],
  vote: [[{ n: 2 }, false]],
  logprobs: [[true, false]],
  top_logprobs: [[2, false]],
  response_format: [[{ type: "text" }, false], [{ type: "json_object" }, false]],
  store: [[true, false]],
  metadata: [[{ lesson: "fractions" }, false]],
  service_tier: [["auto", false]],
  verbosity: [["low", false]],
  reasoning_effort: [["high", false]],
  parallel_tool_calls: [[false, false]],
  prompt_cache_key: [["tutor-v1", false]],
  prompt_cache_options: [[{ mode: "implicit" }, false]],
  prompt_cache_retention: [["24h", false]],
  modalities: [[["text"], false], [["text", "audio"], true]],
  tools: [[[{ type: "function", function: { name: "calc" } }], true]],
  tool_choice: [["none", false], ["auto", true]],
  functions: [[[{ name: "calc" }], true]],
  function_call: [["none", false], ["auto", true]],
  audio: [[{ voice: "alloy", format: "mp3" }, true]],
  prediction: [[{ type: "content", content: "x" }, true]],
  web_search_options: [[{}, true]],
  moderation: [[{ model: "omni-moderation-latest" }, true]],
};

const COMPLETION_SAMPLES: { [K in keyof CompletionRequest]-?: [value: unknown, refused: boolean][] } = {
  model: [["limo", false]],
  prompt: [["2+2=", false], [["2+2="], false], [["a", "b"], true], [[1, 2, 3], true]],
  max_tokens: [[4, false]],
  temperature: [[0.2, false]],
  top_p: [[0.9, false]],
  top_k: [[20, false]],
  min_p: [[0.05, false]],
  n: [[2, false]],
  stop: [["\n", false]],
  seed: [[7, false]],
  presence_penalty: [[0.1, false]],
  frequency_penalty: [[0.1, false]],
  repetition_penalty: [[1.05, false]],
  logit_bias: [[{ "1000": 5 }, false]],
  stream: [[false, false]],
  stream_options: [[{ include_usage: true }, false]],
  user: [["student-1", false]],
  safety_identifier: [["hashed-student-1", false]],
  background: [[false, false]],
  vote: [[{ n: 2 }, false]],
  cache: [[{ enabled: false }, false]],
  logprobs: [[1, false]],
  echo: [[false, false], [true, true]],
  best_of: [[1, false], [3, true]],
  suffix: [["", false], ["</answer>", true]],
};

// Every field of OpenAI's request schemas is one of ours (a type error names a missing one).
type MissingChat = Exclude<keyof OpenAI.ChatCompletionCreateParamsNonStreaming, keyof ChatCompletionRequest>;
type MissingCompletion = Exclude<keyof OpenAI.CompletionCreateParamsNonStreaming, keyof CompletionRequest>;
const everyChatField: [MissingChat] extends [never] ? true : MissingChat = true;
const everyCompletionField: [MissingCompletion] extends [never] ? true : MissingCompletion = true;

/** Fields another field needs: `stream_options` wants `stream`, `top_logprobs` wants `logprobs`. */
const COMPANIONS: Record<string, Record<string, unknown>> = { stream_options: { stream: true }, top_logprobs: { logprobs: true } };

async function send(path: string, body: Record<string, unknown>): Promise<{ status: number; error?: { code: string; param: string; message: string } }> {
  const res = await fetch(`${stack.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.devKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return res.status === 200 ? { status: 200 } : { status: res.status, error: (JSON.parse(text) as { error: { code: string; param: string; message: string } }).error };
}

describe("the field table: each OpenAI field sent alone", () => {
  it("covers every field of the openai package's request types", () => {
    expect([everyChatField, everyCompletionField]).toEqual([true, true]);
  });

  const cases = (samples: Record<string, [unknown, boolean][]>) =>
    Object.entries(samples).flatMap(([field, values]) => values.map(([value, refused]) => [field, JSON.stringify(value), value, refused] as const));

  it.concurrent.each(cases(CHAT_SAMPLES))("chat %s = %s", async (field, _shown, value, refused) => {
    const body = { model: "limo", messages: [{ role: "user", content: "What is 1+1?" }], max_tokens: 4, ...COMPANIONS[field], [field]: value };
    const result = await send("/v1/chat/completions", body);
    if (!refused) return expect(result).toEqual({ status: 200 });
    expect(result.status).toBe(400);
    expect(result.error!.code).toBe("unsupported_parameter");
    expect(result.error!.param.startsWith(field)).toBe(true);
    // A refusal says why, and only fields whose rule can refuse do.
    expect(result.error!.message).toMatch(/is not supported: .{10,}/);
    expect(CHAT_FIELDS[field as keyof typeof CHAT_FIELDS].refuse).toBeDefined();
  });

  it.concurrent.each(cases(COMPLETION_SAMPLES))("completions %s = %s", async (field, _shown, value, refused) => {
    const body = { model: "limo", prompt: "2+2=", max_tokens: 4, ...COMPANIONS[field], [field]: value };
    const result = await send("/v1/completions", body);
    if (!refused) return expect(result).toEqual({ status: 200 });
    expect(result).toMatchObject({ status: 400, error: { code: "unsupported_parameter", param: field } });
    expect(COMPLETION_FIELDS[field as keyof typeof COMPLETION_FIELDS].refuse).toBeDefined();
  });
});
