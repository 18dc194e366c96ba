/**
 * @module sim/structured.test
 * Structured outputs as vLLM accepts them (`response_format` text /
 * json_object / json_schema, and the `structured_outputs` extension): the
 * answer is a JSON object or an instance that validates against the schema
 * (checked here with a JSON-schema validator), deterministic, and streamed in
 * token-sized pieces like any answer; inside workerd too, where the Worker
 * embeds the simulator.
 */
import { Validator, type Schema } from "@cfworker/json-schema";
import { describe, expect, it } from "vitest";
import { createSimulator } from "../../gpu/sim/simulator";
import { newSim, readSseData } from "../helpers/sim";

const JSON_HEADERS = { "content-type": "application/json" };
const messages = [{ role: "user", content: "My answer to 1/4 + 1/4 is 1/2. Am I right?" }];

async function chat(url: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ model: "GAIR/LIMO", messages, ...body }) });
}
const contentOf = async (res: Response): Promise<string> => ((await res.json()) as any).choices[0].message.content;
const valid = (schema: Record<string, unknown>, value: unknown) => new Validator(schema as Schema, "2020-12").validate(value).valid;

/** What a tutoring app asks for (issue 19): OpenAI's strict shape. */
const GRADE = {
  type: "object",
  properties: { correct: { type: "boolean" }, feedback: { type: "string" }, answer: { type: "string" } },
  required: ["correct", "feedback", "answer"],
  additionalProperties: false,
};
const asSchema = (schema: Record<string, unknown>) => ({ type: "json_schema", json_schema: { name: "grade", schema, strict: true } });

describe("response_format", () => {
  it("leaves text alone and makes json_object a JSON object", async () => {
    const { url } = newSim();
    expect(await contentOf(await chat(url, { response_format: { type: "text" } }))).toMatch(/\\boxed\{/);
    const object = JSON.parse(await contentOf(await chat(url, { response_format: { type: "json_object" } })));
    expect(object).toEqual({ answer: expect.any(String), reasoning: expect.any(String) });
  });

  it("answers json_schema with an instance of the schema, deterministic at temperature 0, the final answer in its answer field", async () => {
    const sim = newSim();
    await sim.configure({ final_answers: ["\\frac{1}{2}"] });
    const first = await contentOf(await chat(sim.url, { response_format: asSchema(GRADE), temperature: 0 }));
    const value = JSON.parse(first);
    expect(valid(GRADE, value)).toBe(true);
    expect(value.answer).toBe("\\frac{1}{2}");
    expect(await contentOf(await chat(sim.url, { response_format: asSchema(GRADE), temperature: 0 }))).toBe(first);
    const sampled = new Set<string>();
    for (let i = 0; i < 6; i++) sampled.add(await contentOf(await chat(sim.url, { response_format: asSchema(GRADE), temperature: 1 })));
    expect(sampled.size).toBeGreaterThan(1);
  });

  it("follows nested objects, arrays, enums, bounds and references", async () => {
    const { url } = newSim();
    const schema = {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: {
        steps: { type: "array", items: { $ref: "#/definitions/step" }, minItems: 2, maxItems: 4 },
        verdict: { enum: ["right", "wrong", "unsure"] },
        score: { type: "integer", minimum: 1, maximum: 5 },
        code: { type: "string", pattern: "^[A-Z]{3}-\\d{2}$" },
      },
      required: ["steps", "verdict", "score", "code"],
      additionalProperties: false,
      definitions: { step: { type: "object", properties: { text: { type: "string", minLength: 3 }, ok: { type: "boolean" } }, required: ["text", "ok"] } },
    };
    for (let seed = 0; seed < 5; seed++) {
      const value = JSON.parse(await contentOf(await chat(url, { response_format: asSchema(schema), seed })));
      expect(new Validator(schema as Schema, "7").validate(value).valid).toBe(true);
    }
  });

  it("streams the JSON in token-sized pieces that join to the same text", async () => {
    const { url } = newSim();
    const whole = await contentOf(await chat(url, { response_format: asSchema(GRADE), temperature: 0 }));
    const data = await readSseData(await chat(url, { response_format: asSchema(GRADE), temperature: 0, stream: true, stream_options: { include_usage: true } }));
    const chunks = data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d));
    const pieces = chunks.map((c) => c.choices[0]?.delta?.content).filter((t): t is string => Boolean(t));
    expect(pieces.join("")).toBe(whole);
    expect(pieces.length).toBeGreaterThan(8);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(whole.length / 2);
    expect(chunks.at(-1).usage.completion_tokens).toBe(pieces.length);
  });

  it("serves /v1/completions too", async () => {
    const { url } = newSim();
    const res = await fetch(`${url}/v1/completions`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ prompt: "Grade it.", max_tokens: 500, response_format: asSchema(GRADE) }) });
    expect(valid(GRADE, JSON.parse(((await res.json()) as any).choices[0].text))).toBe(true);
  });

  it("refuses a schema no instance can satisfy, or one that is not a schema, before generating", async () => {
    const sim = newSim();
    const impossible = await chat(sim.url, { response_format: asSchema({ type: "string", minLength: 5, maxLength: 2 }) });
    expect(impossible.status).toBe(400);
    expect(await impossible.json()).toMatchObject({ error: { type: "BadRequestError", code: 400 } });
    const notSchema = await chat(sim.url, { response_format: { type: "json_schema", json_schema: { name: "x", schema: "object" } } });
    expect(notSchema.status).toBe(400);
    const nameless = await chat(sim.url, { response_format: { type: "json_schema", json_schema: { schema: GRADE } } });
    expect(await nameless.json()).toMatchObject({ error: { type: "Bad Request", param: "body.response_format.json_schema.name" } });
    expect(await sim.waitForIdle()).toMatchObject({ rejected_total: 3, completed_total: 0 });
  });
});

describe("structured_outputs", () => {
  it("takes json (object or text), json_object and choice", async () => {
    const { url } = newSim();
    expect(valid(GRADE, JSON.parse(await contentOf(await chat(url, { structured_outputs: { json: GRADE } }))))).toBe(true);
    expect(valid(GRADE, JSON.parse(await contentOf(await chat(url, { structured_outputs: { json: JSON.stringify(GRADE) } }))))).toBe(true);
    expect(typeof JSON.parse(await contentOf(await chat(url, { structured_outputs: { json_object: true } })))).toBe("object");
    const picks = new Set<string>();
    // Seeded: the pick is deterministic in the seed, so the test cannot draw the same pick eight times by chance.
    for (let seed = 0; seed < 8; seed++) picks.add(await contentOf(await chat(url, { seed, structured_outputs: { choice: ["right", "wrong"] } })));
    expect([...picks].sort()).toEqual(["right", "wrong"]);
  });

  it("gives way to response_format, and accepts regex and grammar without honouring them", async () => {
    const { url } = newSim();
    const overridden = await contentOf(await chat(url, { structured_outputs: { choice: ["right"] }, response_format: { type: "json_object" } }));
    expect(JSON.parse(overridden)).toHaveProperty("answer");
    for (const so of [{ regex: "[a-z]+" }, { grammar: "root ::= \"x\"" }]) expect(await contentOf(await chat(url, { structured_outputs: so }))).toMatch(/\\boxed\{/);
  });
});

describe("inside workerd", () => {
  it("generates and validates schema instances in the embedded simulator (no code generation needed)", async () => {
    const sim = createSimulator();
    const body = JSON.stringify({ model: "GAIR/LIMO", messages, response_format: asSchema(GRADE), stream: true });
    const res = await sim.fetch(new Request("http://sim/v1/chat/completions", { method: "POST", headers: JSON_HEADERS, body }));
    const text = (await readSseData(res))
      .filter((d) => d !== "[DONE]")
      .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? "")
      .join("");
    expect(valid(GRADE, JSON.parse(text))).toBe(true);
  });
});
