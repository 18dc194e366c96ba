/**
 * `node --import tsx scripts/openai-fields-table.ts [--write]`: prints the
 * README's OpenAI field tables from worker/generations/openai-fields.ts, or
 * with `--write` puts them into README.md between their markers
 * (tests/unit/openai-fields.test.ts fails when the two differ).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fieldTableMarkdown } from "../worker/generations/openai-fields";

export const TABLE_START = "<!-- openai-fields:start (generated: node --import tsx scripts/openai-fields-table.ts --write) -->";
export const TABLE_END = "<!-- openai-fields:end -->";

const readme = join(import.meta.dirname, "..", "README.md");
const text = readFileSync(readme, "utf8");
const start = text.indexOf(TABLE_START);
const end = text.indexOf(TABLE_END);
if (!process.argv.includes("--write")) {
  console.log(fieldTableMarkdown());
} else if (start < 0 || end < start) {
  throw new Error(`README.md has no ${TABLE_START} ... ${TABLE_END} markers`);
} else {
  writeFileSync(readme, `${text.slice(0, start + TABLE_START.length)}\n${fieldTableMarkdown()}\n${text.slice(end)}`);
  console.log("README.md: field tables written");
}
