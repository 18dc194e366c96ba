/**
 * Fuzzing the generation routes' bodies: a valid request mutated field by
 * field (wrong types, huge and negative numbers, NaN-like strings, unicode and
 * control characters, prototype-polluting and duplicate keys, deep nesting).
 * Whatever comes in: no 5xx, an OpenAI envelope on every error, nothing
 * internal or secret in the answer or the logs, Object.prototype untouched,
 * and the backend reached exactly when the answer is a 2xx.
 */
import fc from "fast-check";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  applyMutations,
  fieldValue,
  hostileString,
  jsonValueText,
  mutationArbitrary,
  numberToken,
  objectText,
  stringToken,
} from "../helpers/fuzz-arbitraries";
import { backendRequests, captureLogs, checkResponse, expectPrototypeIntact, fuzzApi, fuzzClient, FUZZ_TIMEOUT_MS, fuzzParams, fuzzRoute, type FuzzClient } from "../helpers/fuzz";
import { newSim, type SimHandle } from "../helpers/sim";

const SAMPLING_FIELDS = [
  "model",
  "max_tokens",
  "temperature",
  "top_p",
  "top_k",
  "min_p",
  "n",
  "stop",
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "repetition_penalty",
  "stream",
  "stream_options",
  "user",
] as const;
const CHAT_FIELDS = [...SAMPLING_FIELDS, "messages", "max_completion_tokens", "logprobs", "top_logprobs"];
const COMPLETION_FIELDS = [...SAMPLING_FIELDS, "prompt", "logprobs"];
const MESSAGE_FIELDS = ["role", "content", "name"];

/** Values a field of either endpoint might plausibly be given, right or wrong. */
const plausibleValue = fc.oneof(
  numberToken,
  stringToken,
  fc.constantFrom('"limo"', '"limo-v2"', '"GAIR/LIMO"', '"gpt-4o"', "true", "false", "null", "[]", "{}", '["\\n"]', '{"include_usage":true}', '{"include_usage":"yes"}'),
);

const contentPart = fc
  .array(mutationArbitrary(["type", "text", "image_url"], fc.oneof(stringToken, fc.constant('"text"'), jsonValueText(["url"]))), { maxLength: 3 })
  .map((m) => objectText(applyMutations([["type", '"text"'], ["text", '"What is 1+1?"']], m)));

const messageValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('"user"', '"system"', '"assistant"', '"tool"', '"developer"', '"function"', '"USER"', '""') },
  { weight: 3, arbitrary: stringToken },
  { weight: 2, arbitrary: fc.array(contentPart, { maxLength: 3 }).map((parts) => `[${parts.join(",")}]`) },
  { weight: 2, arbitrary: fieldValue(MESSAGE_FIELDS) },
);

const message = fc
  .array(mutationArbitrary(MESSAGE_FIELDS, messageValue), { maxLength: 3 })
  .map((m) => objectText(applyMutations([["role", '"user"'], ["content", '"What is 1+1?"']], m)));

const messages = fc.oneof(
  { weight: 4, arbitrary: fc.array(message, { maxLength: 4 }).map((items) => `[${items.join(",")}]`) },
  { weight: 1, arbitrary: fieldValue(MESSAGE_FIELDS) },
);

/** A body: a valid request (max_tokens small, so accepted ones are quick) plus up to five mutations. */
function body(fields: readonly string[], base: [string, string][], extra: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const value = fc.oneof({ weight: 4, arbitrary: plausibleValue }, { weight: 2, arbitrary: fieldValue(fields) }, { weight: 2, arbitrary: extra });
  return fc.array(mutationArbitrary(fields, value), { maxLength: 5 }).map((m) => objectText(applyMutations(base, m)));
}

const chatBody = body(CHAT_FIELDS, [["model", '"limo"'], ["messages", '[{"role":"user","content":"What is 1+1?"}]'], ["max_tokens", "8"]], messages);
const completionBody = body(COMPLETION_FIELDS, [["model", '"limo"'], ["prompt", '"2+2="'], ["max_tokens", "8"]], fc.oneof(stringToken, fc.array(stringToken, { maxLength: 3 }).map((a) => `[${a.join(",")}]`)));

// One client for the file: storage written in beforeAll is seen by every test.
let sim: SimHandle;
let a: FuzzClient;
beforeAll(async () => {
  sim = newSim();
  a = await fuzzClient(sim);
});

let logs: ReturnType<typeof captureLogs>;
let before: number;
beforeEach(async () => {
  logs = captureLogs();
  before = await backendRequests(sim);
});
/** Requests the backend received during this test. */
const reached = async () => (await backendRequests(sim)) - before;
afterEach(() => {
  logs.restore();
  logs.assertNoSecrets();
});

describe("fuzzing generation bodies", { timeout: FUZZ_TIMEOUT_MS }, () => {
  it("POST /v1/chat/completions survives mutated bodies", async () => {
    await fuzzRoute(a, sim, "/v1/chat/completions", chatBody, 200, 1);
  });

  it("POST /v1/completions survives mutated bodies", async () => {
    await fuzzRoute(a, sim, "/v1/completions", completionBody, 120, 2);
  });

  it("a test-mode key (the dev key) is answered by the built-in simulator, never by a GPU backend", async () => {
    // The test's simulator plays a GPU here: test keys must never reach it.
    const gpu = newSim();
    const dev = fuzzApi(gpu, { BACKENDS: JSON.stringify([{ name: "gpu", url: gpu.url, models: ["GAIR/LIMO", "GAIR/LIMO-v2"], weight: 1, kind: "gpu" }]) });
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.oneof(chatBody.map((b) => ["/v1/chat/completions", b] as const), completionBody.map((b) => ["/v1/completions", b] as const)), async ([path, text]) => {
        const res = await dev.post(path, text);
        statuses.add((await checkResponse(res, { describe: `dev key: POST ${path} ${text.slice(0, 300)}` })).status);
      }),
      fuzzParams(80, 5),
    );
    expect(await backendRequests(gpu)).toBe(0);
    expect([...statuses]).toContain(200);
  });

  it.each([
    ["/v1/chat/completions", CHAT_FIELDS, '"messages":[{"role":"user","content":"hi"}]'],
    ["/v1/completions", COMPLETION_FIELDS, '"prompt":"hi"'],
  ])("%s: every field with a value of every JSON type is answered, and a 400 names that field", async (path, fields, input) => {
    const values = ['"text"', '""', "0", "-1", "1.5", "1e999", "9007199254740993", "true", "null", "[]", '["x"]', "{}", '{"a":1}', '"NaN"', '"-Infinity"'];
    for (const field of fields) {
      for (const value of values) {
        const entries = [`"model":"limo"`, input, `"max_tokens":2`].filter((e) => !e.startsWith(`"${field}"`));
        const text = `{${[...entries, `"${field}":${value}`].join(",")}}`;
        const start = await backendRequests(sim);
        const checked = await checkResponse(await a.send(path, text), { describe: `POST ${path} ${text}` });
        expect(await backendRequests(sim), text).toBe(checked.status < 300 ? start + 1 : start);
        if (checked.status === 400) expect(checked.error?.param ?? "", `${text}: ${checked.text}`).toMatch(new RegExp(`^${field}\\b`));
      }
    }
  });

  it("any JSON value at all as the body is a 4xx that costs nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/v1/chat/completions", "/v1/completions"), fieldValue(CHAT_FIELDS), async (path, text) => {
        const res = await a.send(path, text);
        const { status } = await checkResponse(res, { describe: `POST ${path} ${text.slice(0, 300)}` });
        expect(status).toBeGreaterThanOrEqual(400);
        expectPrototypeIntact(text.slice(0, 200));
      }),
      fuzzParams(100, 3),
    );
    expect(await reached()).toBe(0);
  });

  it.each([
    ["a duplicate model (last one wins, as JSON.parse does)", 404, '{"model":"limo","model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'],
    ["a duplicate messages of the wrong type", 400, '{"model":"limo","messages":[{"role":"user","content":"hi"}],"messages":"hi"}'],
    ["an own __proto__ key", 400, '{"model":"limo","messages":[{"role":"user","content":"hi"}],"__proto__":{"polluted":"yes"}}'],
    ["an own __proto__ key holding null", 400, '{"__proto__":null,"model":"limo","messages":[{"role":"user","content":"hi"}]}'],
    ["constructor.prototype", 400, '{"model":"limo","messages":[{"role":"user","content":"hi"}],"constructor":{"prototype":{"polluted":"yes"}}}'],
    ["__proto__ inside a message", 400, '{"model":"limo","messages":[{"role":"user","content":"hi","__proto__":{"role":"system"}}]}'],
    ["__proto__ as stream_options", 400, '{"model":"limo","stream":true,"stream_options":{"__proto__":{"include_usage":true}},"messages":[{"role":"user","content":"hi"}]}'],
    ["Infinity via 1e999", 400, '{"model":"limo","max_tokens":1e999,"messages":[{"role":"user","content":"hi"}]}'],
    ["-Infinity temperature", 400, '{"model":"limo","temperature":-1e999,"messages":[{"role":"user","content":"hi"}]}'],
    ["a seed past int64", 400, '{"model":"limo","seed":18446744073709551616,"messages":[{"role":"user","content":"hi"}]}'],
    ["a NaN-like string", 400, '{"model":"limo","temperature":"NaN","messages":[{"role":"user","content":"hi"}]}'],
    ["a NUL in the model", 404, '{"model":"limo\\u0000","messages":[{"role":"user","content":"hi"}]}'],
    ["a lone surrogate in the content", 200, '{"model":"limo","max_tokens":4,"messages":[{"role":"user","content":"\\ud800"}]}'],
    ["a BOM before the body (decoding drops it)", 200, '\ufeff{"model":"limo","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}'],
    ["trailing garbage", 400, '{"model":"limo","messages":[{"role":"user","content":"hi"}]}}'],
    ["a trailing comma", 400, '{"model":"limo","messages":[{"role":"user","content":"hi"}],}'],
    ["single quotes", 400, "{'model':'limo'}"],
    ["a JSON string", 400, '"{\\"model\\":\\"limo\\"}"'],
  ])("answers %s with %s", async (_name, status, text) => {
    const res = await a.send("/v1/chat/completions", text);
    const checked = await checkResponse(res, { describe: text });
    expect(checked.status, checked.text).toBe(status);
    expect(await reached()).toBe(status === 200 ? 1 : 0);
    expectPrototypeIntact(text);
  });

  it("answers deep nesting at every field with a 4xx, never a stack overflow", async () => {
    for (const depth of [1_000, 100_000, 400_000]) {
      const deep = "[".repeat(depth) + "]".repeat(depth);
      const deepObject = '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
      for (const text of [
        deep,
        deepObject,
        `{"model":"limo","messages":${deep}}`,
        `{"model":"limo","messages":[{"role":"user","content":${deep}}]}`,
        `{"model":"limo","messages":[{"role":"user","content":"hi"}],"stop":${deep}}`,
        `{"model":"limo","messages":[{"role":"user","content":"hi"}],"stream_options":${deepObject}}`,
        `{"model":"limo","messages":[{"role":"user","content":"hi"}],"extra":${deepObject}}`,
        `{"model":"limo","prompt":${deep}}`,
      ]) {
        const res = await a.send(text.includes('"prompt"') ? "/v1/completions" : "/v1/chat/completions", text);
        const { status } = await checkResponse(res, { describe: `depth ${depth}: ${text.slice(0, 80)}` });
        expect(status).toBeGreaterThanOrEqual(400);
      }
    }
    expect(await reached()).toBe(0);
  });

  it("echoes no hostile string as markup that breaks the envelope", async () => {
    await fc.assert(
      fc.asyncProperty(hostileString.filter((s) => !/^(limo|limo-v2|GAIR\/LIMO|GAIR\/LIMO-v2)$/.test(s)), async (s) => {
        const res = await a.send("/v1/chat/completions", { model: s, messages: [{ role: "user", content: "hi" }] });
        const checked = await checkResponse(res, { describe: `model ${JSON.stringify(s)}` });
        expect(checked.status).toBeGreaterThanOrEqual(400);
      }),
      fuzzParams(100, 4),
    );
    expect(await reached()).toBe(0);
  });
});
