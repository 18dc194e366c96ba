/**
 * @module structured
 * Structured outputs as vLLM takes them: `response_format` (`text`,
 * `json_object`, `json_schema`, `structural_tag`) and the `structured_outputs`
 * extension (`json`, `json_object`, `choice`, `regex`, `grammar`,
 * `structural_tag`), with `response_format` overriding `structured_outputs`
 * as `structured_outputs_from_response_format` does
 * (vllm/entrypoints/generate/base/protocol.py). The simulator honours the JSON
 * kinds and `choice`: a JSON object, or an instance of the schema generated
 * deterministically by json-schema-faker and checked with
 * @cfworker/json-schema (which, unlike ajv, compiles no code, so it runs in
 * workerd where the Worker embeds the simulator). `regex`, `grammar` and
 * `structural_tag` are accepted and not honoured: the answer is plain text.
 */
import { Validator, type Schema, type SchemaDraft } from "@cfworker/json-schema";
import { generateSync, type JsonSchema } from "json-schema-faker";
import * as z from "zod";
import { createRng, hashString } from "./prng";

/** `JsonSchemaResponseFormat`: `schema` is optional in vLLM, `name` is not. */
const JsonSchemaFormat = z.object({
  name: z.string(),
  description: z.string().nullish(),
  schema: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

/** `AnyResponseFormat`: `ResponseFormat` or a structural tag (legacy or current). */
export const ResponseFormatField = z.discriminatedUnion("type", [
  z.object({ type: z.enum(["text", "json_object", "json_schema"]), json_schema: JsonSchemaFormat.nullish() }),
  z.looseObject({ type: z.literal("structural_tag") }),
]);

/** `StructuredOutputsParams` (vllm/sampling_params.py). */
export const StructuredOutputsField = z.object({
  json: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
  regex: z.string().nullish(),
  choice: z.array(z.string()).nullish(),
  grammar: z.string().nullish(),
  json_object: z.boolean().nullish(),
  disable_fallback: z.boolean().nullish(),
  disable_any_whitespace: z.boolean().nullish(),
  disable_additional_properties: z.boolean().nullish(),
  whitespace_pattern: z.string().nullish(),
  structural_tag: z.string().nullish(),
});

/** What a request constrains its output to; null when it is free text. */
export type StructuredRequest =
  | { kind: "json_object" }
  | { kind: "json_schema"; schema: Record<string, unknown> }
  | { kind: "choice"; choices: string[] }
  /** Accepted, not honoured by the simulator. */
  | { kind: "unsupported"; constraint: "regex" | "grammar" | "structural_tag" };

/** A request whose constraint cannot be followed: vLLM answers 400. */
export class StructuredOutputError extends Error {}

/** Attempts at a valid instance before the schema is called unsatisfiable. */
const MAX_GENERATION_ATTEMPTS = 8;
/** Top-level string properties that receive the choice's final answer, when the schema allows. */
const ANSWER_PROPERTIES = ["final_answer", "answer", "result"] as const;

/** Normalises the two request fields into one constraint, as vLLM's protocol does. */
export function resolveStructured(
  responseFormat: z.infer<typeof ResponseFormatField> | null | undefined,
  outputs: z.infer<typeof StructuredOutputsField> | null | undefined,
): StructuredRequest | null {
  if (responseFormat && responseFormat.type !== "text") {
    if (responseFormat.type === "json_object") return { kind: "json_object" };
    if (responseFormat.type === "structural_tag") return { kind: "unsupported", constraint: "structural_tag" };
    // Checked before: json_schema is present. vLLM treats a missing `schema` as "any JSON".
    const schema = (responseFormat as { json_schema?: { schema?: Record<string, unknown> | null } | null }).json_schema?.schema;
    return schema ? { kind: "json_schema", schema } : { kind: "json_object" };
  }
  if (!outputs) return null;
  if (outputs.json != null) {
    const schema = typeof outputs.json === "string" ? parseSchemaText(outputs.json) : outputs.json;
    return { kind: "json_schema", schema };
  }
  if (outputs.json_object) return { kind: "json_object" };
  if (outputs.choice != null) {
    if (outputs.choice.length === 0) throw new StructuredOutputError("The choice list of structured outputs must not be empty.");
    return { kind: "choice", choices: outputs.choice };
  }
  if (outputs.regex != null) return { kind: "unsupported", constraint: "regex" };
  if (outputs.grammar != null) return { kind: "unsupported", constraint: "grammar" };
  if (outputs.structural_tag != null) return { kind: "unsupported", constraint: "structural_tag" };
  return null;
}

/**
 * The constrained text of one choice, or null for a constraint the simulator
 * does not honour. Deterministic in `seedKey`; throws StructuredOutputError
 * when the schema is invalid or no instance of it can be made.
 */
export function structuredText(spec: StructuredRequest, seedKey: string, finalAnswer: string): string | null {
  const rng = createRng(`structured\u0000${seedKey}`);
  switch (spec.kind) {
    case "unsupported":
      return null;
    case "choice":
      return rng.pick(spec.choices);
    case "json_object":
      return JSON.stringify({ answer: finalAnswer, reasoning: `Working step by step, the result is ${finalAnswer}.` });
    case "json_schema":
      return JSON.stringify(schemaInstance(spec.schema, hashString(seedKey), finalAnswer));
  }
}

/** An instance of `schema` that validates against it; the final answer in an answer-like field where allowed. */
function schemaInstance(schema: Record<string, unknown>, seed: number, finalAnswer: string): unknown {
  let validator: Validator;
  try {
    validator = new Validator(schema as Schema, draftOf(schema));
  } catch (err) {
    throw new StructuredOutputError(`Invalid JSON schema: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (let attempt = 0; attempt < MAX_GENERATION_ATTEMPTS; attempt++) {
    let instance: unknown;
    try {
      instance = generateSync(schema as JsonSchema, { seed: seed + attempt });
    } catch {
      continue;
    }
    if (!validator.validate(instance).valid) continue;
    return withAnswer(instance, validator, finalAnswer);
  }
  throw new StructuredOutputError("The JSON schema could not be satisfied: no valid instance could be generated.");
}

/** Puts the final answer into the first answer-like string property, if the result still validates. */
function withAnswer(instance: unknown, validator: Validator, finalAnswer: string): unknown {
  if (typeof instance !== "object" || instance === null || Array.isArray(instance)) return instance;
  const record = instance as Record<string, unknown>;
  const key = ANSWER_PROPERTIES.find((k) => typeof record[k] === "string");
  if (key === undefined) return instance;
  const candidate = { ...record, [key]: finalAnswer };
  return validator.validate(candidate).valid ? candidate : instance;
}

/** The validator draft a schema names in `$schema` (2020-12 when it names none). */
function draftOf(schema: Record<string, unknown>): SchemaDraft {
  const id = typeof schema.$schema === "string" ? schema.$schema : "";
  if (id.includes("draft-04")) return "4";
  if (id.includes("draft-07") || id.includes("draft-06")) return "7";
  if (id.includes("2019-09")) return "2019-09";
  return "2020-12";
}

function parseSchemaText(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StructuredOutputError("structured_outputs.json is not valid JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new StructuredOutputError("structured_outputs.json must be a JSON schema object.");
  }
  return parsed as Record<string, unknown>;
}
