/**
 * @module check-answers
 * `npm run admin -- check REFERENCE CANDIDATE... [--extract] [--json]`: the
 * answer checker run locally, in Node, with the very modules the Worker runs
 * (worker/answers): no server, no key, nothing billed. For an operator
 * answering "why did the API call these equal?"; the API's
 * `POST /v1/answers/check` gives the same verdicts. Exit code 0 when every
 * candidate is equivalent, 3 when one is not or is undecided, 2 on a usage error.
 */
import { parseArgs } from "node:util";
import { checkAnswers, MAX_CHECK_CANDIDATES, type CheckResult } from "../worker/answers/check";
import { symbolicComparer } from "../worker/answers/symbolic";

export const CHECK_USAGE = `Usage: npm run admin -- check REFERENCE CANDIDATE... [--extract] [--json]
  Checks each candidate against the reference with the API's answer checker, locally.
  --extract  read each candidate's final answer first (a solution, or "I got 12 apples")
  Example: npm run admin -- check "\\frac{1}{2}" "0.5" "1/2" "2"`;

/** The table a person reads: one row per candidate. */
export function formatChecks(candidates: readonly string[], results: readonly CheckResult[]): string {
  const rows = results.map((r, i) => [candidates[i]!, r.equivalent === null ? "undecided" : String(r.equivalent), r.method, r.reason]);
  const headers = ["candidate", "equivalent", "method", "reason"];
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  return [headers, ...rows].map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()).join("\n");
}

/** Runs the command; returns the exit code. */
export async function runCheck(argv: readonly string[], out: (line: string) => void = console.log): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], options: { extract: { type: "boolean" }, json: { type: "boolean" } }, allowPositionals: true, strict: true });
  const [reference, ...candidates] = positionals;
  if (reference === undefined || candidates.length === 0 || candidates.length > MAX_CHECK_CANDIDATES) {
    out(CHECK_USAGE);
    return 2;
  }
  const results = await checkAnswers(reference, candidates, { extract: values.extract === true, cas: symbolicComparer });
  out(values.json ? JSON.stringify({ object: "answer.check", results: results.map((r, i) => ({ candidate: candidates[i], ...r })) }, null, 2) : formatChecks(candidates, results));
  return results.every((r) => r.equivalent === true) ? 0 : 3;
}
