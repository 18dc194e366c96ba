/**
 * Fuzzing `POST /v1/responses`: a valid request mutated field by field
 * (wrong types, hostile strings, huge numbers, polluting keys). Whatever
 * comes in: no 5xx, an OpenAI envelope on every error, nothing secret in
 * the answer or the logs, the backend reached exactly when the answer is a
 * 2xx, and one ledger record per admitted request, none for a refused one.
 */
import fc from "fast-check";
import { beforeAll, describe, it } from "vitest";
import { applyMutations, fieldValue, jsonValueText, mutationArbitrary, numberToken, objectText, stringToken } from "../helpers/fuzz-arbitraries";
import { checkLogsForSecrets, fuzzClient, FUZZ_TIMEOUT_MS, fuzzRoute, type FuzzClient } from "../helpers/fuzz";
import { newSim, type SimHandle } from "../helpers/sim";

const FIELDS = [
  "model", "input", "instructions", "max_output_tokens", "temperature", "top_p", "stream", "store", "previous_response_id", "metadata",
  "user", "safety_identifier", "truncation", "text", "reasoning", "include", "tools", "tool_choice", "parallel_tool_calls", "background", "cache", "vote",
];
const ITEM_FIELDS = ["type", "role", "content", "id"];

const plausible = fc.oneof(
  numberToken,
  stringToken,
  fc.constantFrom('"limo"', '"gpt-4o"', "true", "false", "null", "[]", "{}", '"disabled"', '"auto"', '{"format":{"type":"text"}}', '{"effort":"high"}', '{"format":{"type":"json_schema"}}'),
);
const item = fc
  .array(mutationArbitrary(ITEM_FIELDS, fc.oneof(stringToken, fc.constantFrom('"user"', '"assistant"', '"message"', '"item_reference"', '"function_call"', '[{"type":"input_text","text":"hi"}]', '[{"type":"input_image"}]'), jsonValueText(["type", "text"]))), { maxLength: 3 })
  .map((m) => objectText(applyMutations([["role", '"user"'], ["content", '"What is 1+1?"']], m)));
const input = fc.oneof(fc.array(item, { maxLength: 3 }).map((items) => `[${items.join(",")}]`), stringToken);
const bodies = fc
  .array(mutationArbitrary(FIELDS, fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 2, arbitrary: fieldValue(FIELDS) }, { weight: 2, arbitrary: input })), { maxLength: 5 })
  .map((m) => objectText(applyMutations([["model", '"limo"'], ["input", '"What is 1+1?"'], ["max_output_tokens", "8"]], m)));

let sim: SimHandle;
let a: FuzzClient;
beforeAll(async () => {
  sim = newSim();
  a = await fuzzClient(sim);
});
checkLogsForSecrets();

describe("fuzzing POST /v1/responses", { timeout: FUZZ_TIMEOUT_MS }, () => {
  it("survives mutated bodies: 2xx reach the backend once and are billed once, the rest cost nothing", async () => {
    await fuzzRoute(a, sim, "/v1/responses", bodies, 150, 13);
  });
});
