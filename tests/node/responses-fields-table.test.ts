/**
 * The README's Responses field table is the one worker/responses/responses-fields.ts
 * generates, and it covers every request field of the `openai` package's
 * `ResponseCreateParamsBase` (each served, accepted with no effect, or refused).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RESPONSES_FIELDS, responsesFieldTableMarkdown } from "../../worker/responses/responses-fields";

const START = "<!-- responses-fields:start (generated: responsesFieldTableMarkdown in worker/responses/responses-fields.ts) -->";
const END = "<!-- responses-fields:end -->";
const root = join(import.meta.dirname, "..", "..");

describe("the Responses field table", () => {
  it("is in the README as the rules generate it", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const start = readme.indexOf(START);
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start + START.length, readme.indexOf(END)).trim()).toBe(responsesFieldTableMarkdown());
  });

  it("has a rule for every field of the openai package's ResponseCreateParamsBase", () => {
    const types = readFileSync(join(root, "node_modules", "openai", "resources", "responses", "responses.d.ts"), "utf8");
    const start = types.indexOf("export interface ResponseCreateParamsBase {");
    const body = types.slice(start, types.indexOf("\n}", start));
    const fields = [...body.matchAll(/^ {4}([a-z_]+)\??:/gm)].map((m) => m[1]!);
    expect(fields.length).toBeGreaterThan(25);
    expect(fields.filter((f) => !(f in RESPONSES_FIELDS))).toEqual([]);
  });
});
