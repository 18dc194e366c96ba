/**
 * The README's OpenAI field tables are the ones worker/generations/openai-fields.ts
 * generates: a rule changed without `scripts/openai-fields-table.ts --write` fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CHAT_FIELDS, COMPLETION_FIELDS, fieldTableMarkdown } from "../../worker/generations/openai-fields";

const START = "<!-- openai-fields:start (generated: node --import tsx scripts/openai-fields-table.ts --write) -->";
const END = "<!-- openai-fields:end -->";

describe("the README's field tables", () => {
  it("are generated from the field rules", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start + START.length, end).trim()).toBe(fieldTableMarkdown());
  });

  it("give every refused or no-effect field a reason", () => {
    for (const [field, rule] of [...Object.entries(CHAT_FIELDS), ...Object.entries(COMPLETION_FIELDS)]) {
      if (rule.treatment === "refused" || rule.treatment === "no effect") expect(rule.note.length, field).toBeGreaterThan(10);
    }
  });
});
