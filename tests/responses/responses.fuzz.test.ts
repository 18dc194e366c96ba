/**
 * Fuzzing `POST /v1/responses`: a valid request mutated field by field
 * (wrong types, hostile strings, huge numbers, polluting keys). Whatever
 * comes in: no 5xx, an OpenAI envelope on every error, nothing secret in
 * the answer or the logs, the backend reached exactly when the answer is a
 * 2xx, and one ledger record per admitted request, none for a refused one.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { applyMutations, fieldValue, jsonValueText, mutationArbitrary, numberToken, objectText, stringToken } from "../helpers/fuzz-arbitraries";
import { backendRequests, checkLogsForSecrets, checkResponse, expectLedger, expectPrototypeIntact, fuzzClient, FUZZ_TIMEOUT_MS, fuzzParams, ledgerIds, type FuzzClient } from "../helpers/fuzz";
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
    const statuses = new Map<number, number>();
    const admitted = new Set<string>();
    const ledgerBefore = await ledgerIds(a);
    await fc.assert(
      fc.asyncProperty(bodies, async (text) => {
        const start = await backendRequests(sim);
        const res = await a.send("/v1/responses", text);
        const checked = await checkResponse(res, { describe: `POST /v1/responses ${text.slice(0, 500)}` });
        statuses.set(checked.status, (statuses.get(checked.status) ?? 0) + 1);
        expect(await backendRequests(sim), `backend requests after ${checked.status} for ${text.slice(0, 500)}: ${checked.text.slice(0, 300)}`).toBe(checked.status < 300 ? start + 1 : start);
        if (checked.status < 300) admitted.add(checked.headers.get("x-request-id")!);
        expectPrototypeIntact(text.slice(0, 200));
      }),
      fuzzParams(150, 13),
    );
    await expectLedger(a, ledgerBefore, admitted);
    expect([...statuses.keys()], JSON.stringify([...statuses])).toContain(200);
    expect([...statuses.keys()], JSON.stringify([...statuses])).toContain(400);
  });
});
