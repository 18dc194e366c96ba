/**
 * The report built from results rows: what counts in a rate (answered
 * problems; an error is left out, an undecided answer is wrong), per level
 * and subject, pass@1 / maj@K / pass@K over samples (maj@K with the API's
 * equivalence grouping), costs, and what report.md and the table say.
 */
import { describe, expect, it } from "vitest";
import { buildReport, type ReportInput } from "../../scripts/eval/report";
import { renderMarkdown, summaryTable } from "../../scripts/eval/report-md";
import type { ResultRow, RunState } from "../../scripts/eval/results";
import { wilsonInterval } from "../../scripts/eval/stats";

const SAMPLING = { model: "limo", systemPrompt: "Please reason step by step.", temperature: 0, topP: 1, maxTokens: 32768, samples: 1, seed: null };

function state(samples = 1): RunState {
  return {
    version: 1, run_id: "abc123", created_at: 0,
    dataset: { name: "math500", path: "data/limo-eval/math500.jsonl", sha256: "f".repeat(64), problems: 500 },
    sampling: { ...SAMPLING, samples, temperature: samples > 1 ? 0.7 : 0, topP: samples > 1 ? 0.95 : 1, seed: samples > 1 ? 0 : null },
    sessions: [],
  };
}

function row(problem: string, over: Partial<ResultRow> = {}): ResultRow {
  return {
    problem_id: problem, problem_index: 0, sample: 0, status: "ok", reference: "\\frac{1}{2}", subject: "Algebra", level: 3,
    prediction: "… \\boxed{0.5}", extracted_answer: "0.5", api_final_answer: "0.5", correct: true, check_method: "numeric",
    finish_reason: "stop", prompt_tokens: 50, completion_tokens: 1000, latency_ms: 2000, ttft_ms: 100, request_id: `req_${problem}`,
    served_model: "GAIR/LIMO", cache: "MISS", replayed: false, cost_micro_usd: 0, list_cost_micro_usd: 2025, error: null, error_status: null,
    attempts: [], idempotency_key: `k-${problem}`, finished_at: 0, ...over,
  };
}

function input(rows: ResultRow[], over: Partial<ReportInput> = {}): ReportInput {
  return {
    state: state(), rows, planned: [...new Set(rows.map((r) => r.problem_id))],
    api: { base_url: "http://127.0.0.1:8787/v1", title: "LIMO Reasoning API", version: "1.0.0", ours: true },
    cache: false, concurrency: 8, interrupted: false, durationMs: 60_000, simulator: null, ...over,
  };
}

describe("the report", () => {
  it("leaves errors out of the rate, counts undecided answers as wrong, and compares with LIMO's published figure", async () => {
    const rows = [
      row("a"), row("b"), row("c", { level: 5, subject: "Geometry" }),
      row("d", { correct: false, extracted_answer: "2", finish_reason: "length", completion_tokens: 32000 }),
      row("e", { correct: null, check_method: "undecided" }),
      row("f", { status: "error", correct: null, error: "HTTP 503: busy", error_status: 503, completion_tokens: 0, cost_micro_usd: null, list_cost_micro_usd: null }),
    ];
    const report = await buildReport(input(rows));
    expect(report.accuracy).toEqual({ value: 3 / 5, correct: 3, of: 5, interval: wilsonInterval(3, 5) });
    expect(report.counts).toEqual({ problems_scored: 5, problems_with_errors: 1, problems_missing: 0, samples_ok: 5, samples_error: 1, undecided: 1 });
    expect(report.status).toBe("incomplete");
    expect(report.published).toEqual({ model: "limo", percent: 94.8, difference_points: -34.8 });
    expect(report.by_level.map((g) => [g.group, g.correct, g.of])).toEqual([["Level 3", 2, 4], ["Level 5", 1, 1]]);
    expect(report.by_subject.map((g) => [g.group, g.correct, g.of])).toEqual([["Algebra", 2, 4], ["Geometry", 1, 1]]);
    expect(report.tokens).toMatchObject({ hit_max_tokens: 1, max: 32000, total_completion: 36000, p50: 1000 });
    expect(report.cost).toEqual({ billed_micro_usd: 0, list_micro_usd: 5 * 2025 });
    expect(report.errors).toEqual([{ problem_id: "f", sample: 0, status: 503, error: "HTTP 503: busy" }]);
    expect(report.undecided).toEqual([{ problem_id: "e", sample: 0, extracted: "0.5", reference: "\\frac{1}{2}" }]);
    expect(report.decode_tokens_per_second_p50).toBeCloseTo((999 * 1000) / 1900, 1);

    const table = summaryTable(report);
    expect(table).toMatch(/accuracy\s+60\.0% \[\d+\.\d, \d+\.\d\]\s+3\/5/);
    expect(table).toMatch(/LIMO published \(limo\)\s+94\.8%\s+ours -34\.8 points/);
    expect(table).toMatch(/1 errors, 0 not done, 1 undecided/);
    const md = renderMarkdown(report, { levels: "accuracy-by-level.svg", tokens: null });
    expect(md).toContain("| accuracy | 60.0% [");
    expect(md).toContain("| 94.8% | -34.8 points |");
    expect(md).toContain("## Errors (1: left out of every rate)");
    expect(md).toContain("## Undecided by the checker (1: counted as wrong)");
    expect(md).toContain("1 answer hit max_tokens");
    expect(md).toContain("$0.000000 billed (a test-mode key); $0.010125 at the ledger's list prices");
    expect(md).not.toMatch(/\n\n\n/);
  });

  it("marks an interrupted run and counts the planned problems not done", async () => {
    const report = await buildReport(input([row("a")], { planned: ["a", "b", "c"], interrupted: true }));
    expect(report.status).toBe("interrupted");
    expect(report.counts).toMatchObject({ problems_scored: 1, problems_missing: 2 });
    expect(report.dataset.problems_planned).toBe(3);
  });

  it("has no billed cost for an API that is not ours and no published figure for another model", async () => {
    const report = await buildReport(input([row("a", { served_model: "some/other-model", cost_micro_usd: null, list_cost_micro_usd: null })], {
      state: { ...state(), sampling: { ...SAMPLING, model: "other" } },
      api: { base_url: "http://x/v1", title: null, version: null, ours: false },
    }));
    expect(report.cost).toEqual({ billed_micro_usd: null, list_micro_usd: null });
    expect(report.published).toBeNull();
    expect(summaryTable(report)).toContain("not known (not our API)");
  });

  it("with K samples: pass@1 is the mean over samples, maj@K groups equal answers written differently, pass@K any correct", async () => {
    const samples = (problem: string, answers: [string, boolean][]) =>
      answers.map(([answer, correct], sample) => row(problem, { sample, extracted_answer: answer, correct, reference: "\\frac{1}{2}" }));
    const rows = [
      // Two samples say 1/2 in different forms, two say 3 and 4: the majority is 1/2 only if 0.5 and \frac12 are one group.
      ...samples("a", [["0.5", true], ["\\frac12", true], ["3", false], ["4", false]]),
      ...samples("b", [["2", false], ["2", false], ["2", false], ["0.5", true]]),
      ...samples("c", [["7", false], ["8", false], ["9", false], ["10", false]]),
    ];
    const report = await buildReport(input(rows, { state: state(4) }));
    expect(report.metric).toBe("pass@1");
    expect(report.accuracy.correct).toBeCloseTo(0.5 + 0.25 + 0, 10);
    expect(report.accuracy.value).toBeCloseTo(0.75 / 3, 10);
    expect(report.maj_at_k).toMatchObject({ correct: 1, of: 3 });
    expect(report.pass_at_k).toMatchObject({ correct: 2, of: 3 });
    expect(summaryTable(report)).toMatch(/maj@4\s+33\.3%/);
    expect(renderMarkdown(report, { levels: null, tokens: null })).toContain("| pass@4 | 66.7% [");
  });
});
