/**
 * `npm run eval` on the embedded default, as on a fresh clone: no --base-url,
 * so the harness starts the simulator and `wrangler dev` itself, turns the
 * oracle on, runs, reads the simulator's own count and stops the stack. The
 * accuracy it reports must be exactly that count, and the report must say
 * where every figure came from.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { progressLines, readReport, readRows, runEvalCli } from "./eval-cli";

const work = mkdtempSync(join(tmpdir(), "limo-eval-embedded-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("npm run eval with no --base-url", () => {
  it("starts the local stack with the oracle, and reports exactly the simulator's count (amc23, accuracy 0.3)", async () => {
    const out = join(work, "amc23");
    const run = await runEvalCli(["--dataset", "amc23", "--oracle-accuracy", "0.3", "--oracle-seed", "3", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^eval: starting the local stack \(simulator with oracle accuracy 0\.3 \+ wrangler dev\)\.\.\.$/m);
    expect(run.stderr).toMatch(/^eval: local API at http:\/\/127\.0\.0\.1:\d+\/v1$/m);

    const report = readReport(out);
    expect(report.simulator).not.toBeNull();
    const { oracle_correct: correct, oracle_wrong: wrong } = report.simulator!;
    expect(correct + wrong).toBe(40);
    expect(report.accuracy.correct).toBe(correct);
    expect(report.accuracy.value).toBe(correct / (correct + wrong));
    expect(report.simulator!.accuracy).toBe(report.accuracy.value);
    expect(report).toMatchObject({
      status: "complete",
      metric: "accuracy",
      maj_at_k: null,
      settings: { model: "limo", temperature: 0, topP: 1, maxTokens: 32768, samples: 1, seed: null, cache: false, api: { ours: true, version: "1.0.0" } },
      published: { model: "limo", percent: 92 },
      counts: { problems_scored: 40, samples_error: 0 },
    });
    // The dev key is a test-mode key: nothing billed, the list price shown beside it.
    expect(report.cost.billed_micro_usd).toBe(0);
    expect(report.cost.list_micro_usd).toBeGreaterThan(0);
    expect(report.tokens.p50).toBeGreaterThan(0);
    expect(report.tokens.hit_max_tokens).toBe(0);

    const rows = readRows(out);
    expect(rows).toHaveLength(40);
    expect(rows.filter((r) => r.correct === true)).toHaveLength(correct);
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(40);
    expect(rows.every((r) => r.request_id?.startsWith("req_") && r.served_model === "GAIR/LIMO" && r.cache === "MISS")).toBe(true);

    expect(progressLines(run.stderr).at(-1)).toMatchObject({ done: 40, total: 40 });
    expect(run.stdout).toMatch(/simulator's oracle count\s+\d+\.\d%\s+\d+\/40 \(oracle accuracy 0\.3\)/);
    const markdown = readFileSync(join(out, "report.md"), "utf8");
    expect(markdown).toContain(`Simulator oracle (accuracy 0.3, seed 3): it counted ${correct} correct and ${wrong} wrong answers`);
    expect(markdown).toContain("| system prompt | `Please reason step by step, and put your final answer within \\boxed{}.` |");
    expect(existsSync(join(out, "tokens-per-answer.svg"))).toBe(true);
  });

  it("with --samples 4 reports pass@1, maj@4 and pass@4, each sample its own seeded request", async () => {
    const out = join(work, "samples");
    const run = await runEvalCli(["--dataset", "aime24", "--limit", "10", "--samples", "4", "--oracle-accuracy", "0.5", "--out", out]);
    expect(run.code, run.stderr).toBe(0);
    const report = readReport(out);
    const rows = readRows(out);
    expect(rows).toHaveLength(40);
    expect(report).toMatchObject({ metric: "pass@1", settings: { temperature: 0.7, topP: 0.95, samples: 4, seed: 0 } });
    const { oracle_correct: correct, oracle_wrong: wrong } = report.simulator!;
    expect(correct + wrong).toBe(40);
    // pass@1 is the mean over samples: over 10 problems of 4 samples each, the simulator's count / 40.
    expect(report.accuracy.correct).toBeCloseTo(correct / 4, 10);
    expect(report.accuracy.value).toBeCloseTo(correct / 40, 10);
    const byProblem = new Map<string, number>();
    for (const r of rows) byProblem.set(r.problem_id, (byProblem.get(r.problem_id) ?? 0) + (r.correct ? 1 : 0));
    const anyCorrect = [...byProblem.values()].filter((c) => c > 0).length;
    const majority = [...byProblem.values()].filter((c) => c > 2).length;
    expect(report.pass_at_k).toMatchObject({ correct: anyCorrect, of: 10 });
    // Wrong answers differ from each other only sometimes, so maj@4 is at least the strict majorities.
    expect(report.maj_at_k!.correct).toBeGreaterThanOrEqual(majority);
    expect(report.maj_at_k!.correct).toBeLessThanOrEqual(anyCorrect);
    expect(run.stdout).toMatch(/maj@4\s+\d+\.\d% \[/);
    expect(run.stdout).toMatch(/pass@4\s+\d+\.\d% \[/);
  });
});
