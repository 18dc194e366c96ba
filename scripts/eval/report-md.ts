/**
 * @module eval-report-md
 * The report for people: report.md (settings, our figure beside LIMO's
 * published one, per level and subject, tokens, latency, cost, errors) and
 * the table printed at the end of a run.
 */
import { formatMicroUsd } from "../../shared/usage";
import { formatTable } from "../admin";
import type { EvalReport, GroupRate, Rate } from "./report";

/** `94.2% [91.8, 96.0]`: percent with its 95% interval. */
export function formatRate(rate: Rate): string {
  return `${pct(rate.value)} [${pct(rate.interval.low, false)}, ${pct(rate.interval.high, false)}]`;
}

/** The summary table printed when a run ends. */
export function summaryTable(report: EvalReport): string {
  const k = report.settings.samples;
  const rows: string[][] = [[report.metric, formatRate(report.accuracy), figure(report.accuracy)]];
  if (report.maj_at_k) rows.push([`maj@${k}`, formatRate(report.maj_at_k), figure(report.maj_at_k)]);
  if (report.pass_at_k) rows.push([`pass@${k}`, formatRate(report.pass_at_k), figure(report.pass_at_k)]);
  if (report.published) {
    const sign = report.published.difference_points >= 0 ? "+" : "";
    rows.push([`LIMO published (${report.published.model})`, `${report.published.percent}%`, `ours ${sign}${report.published.difference_points} points`]);
  }
  if (report.simulator) {
    const s = report.simulator;
    rows.push(["simulator's oracle count", pct(s.accuracy), `${s.oracle_correct}/${s.oracle_correct + s.oracle_wrong} (oracle accuracy ${s.oracle.accuracy})`]);
  }
  const t = report.tokens;
  rows.push(
    ["problems", `${report.counts.problems_scored} scored`, `${report.counts.problems_with_errors} errors, ${report.counts.problems_missing} not done, ${report.counts.undecided} undecided`],
    ["tokens per answer", `mean ${t.mean}`, `p50 ${t.p50}, p95 ${t.p95}, ${t.hit_max_tokens} hit max_tokens`],
    ["latency (s)", `p50 ${seconds(report.latency_ms.p50)}`, `p95 ${seconds(report.latency_ms.p95)}, mean ${seconds(report.latency_ms.mean)}`],
    ["cost (USD)", costText(report), report.cost.list_micro_usd === null ? "" : `$${formatMicroUsd(report.cost.list_micro_usd)} at list prices`],
    ["duration", seconds(report.duration_ms) + " s", report.status],
  );
  return formatTable(["", "ours", ""], rows);
}

/** report.md; `plots` are SVG file names beside it. */
export function renderMarkdown(report: EvalReport, plots: { levels: string | null; tokens: string | null }): string {
  const s = report.settings;
  const k = s.samples;
  const lines: string[] = [
    `# ${report.dataset.name}: ${s.served_models.join(", ") || s.model} (${report.status})`,
    "",
    `Run \`${report.run_id}\`: ${report.counts.problems_scored} of ${report.dataset.problems_planned} problems scored, ${k} sample${k === 1 ? "" : "s"} each.`,
    "",
    "| figure | ours (95% interval) | correct | LIMO published | difference |",
    "| --- | --- | --- | --- | --- |",
    `| ${report.metric} | ${formatRate(report.accuracy)} | ${figure(report.accuracy)} | ${report.published ? `${report.published.percent}%` : "-"} | ${report.published ? signed(report.published.difference_points) : "-"} |`,
  ];
  if (report.maj_at_k) lines.push(`| maj@${k} | ${formatRate(report.maj_at_k)} | ${figure(report.maj_at_k)} | - | - |`);
  if (report.pass_at_k) lines.push(`| pass@${k} | ${formatRate(report.pass_at_k)} | ${figure(report.pass_at_k)} | - | - |`);
  lines.push(
    "",
    k === 1
      ? "Accuracy: the share of problems whose extracted answer the checker finds equal to the reference; Wilson score interval."
      : `pass@1: each problem's share of correct samples, averaged (normal interval over problems); maj@${k}: the answer most samples agree on, grouped by equivalence; pass@${k}: any sample correct (the unbiased estimator of Chen et al. 2021 with n = k = ${k}); Wilson intervals.`,
  );
  if (report.simulator) {
    const sim = report.simulator;
    lines.push("", `Simulator oracle (accuracy ${sim.oracle.accuracy}, seed ${sim.oracle.seed}): it counted ${sim.oracle_correct} correct and ${sim.oracle_wrong} wrong answers, ${pct(sim.accuracy)}.`);
  }
  lines.push(
    "",
    "## Settings",
    "",
    "| setting | value |",
    "| --- | --- |",
    `| API | ${s.api.base_url}${s.api.title ? ` (${s.api.title} ${s.api.version ?? ""})` : ""} |`,
    `| model (asked) | \`${s.model}\` |`,
    `| served model | ${s.served_models.map((m) => `\`${m}\``).join(", ") || "-"} |`,
    `| system prompt | \`${s.systemPrompt.replace(/\|/g, "\\|")}\` |`,
    `| sampling | temperature ${s.temperature}, top_p ${s.topP}, max_tokens ${s.maxTokens}, ${k} sample${k === 1 ? "" : "s"} per problem${s.seed === null ? "" : `, seed ${s.seed} + sample`} |`,
    `| data set | ${report.dataset.path} (${report.dataset.problems_in_file} problems, sha256 ${report.dataset.sha256.slice(0, 12)}…) |`,
    `| cache | ${s.cache ? "allowed" : "off (Cache-Control: no-store)"} |`,
    `| concurrency | ${s.concurrency} |`,
  );
  if (report.by_level.length) lines.push("", "## By level", "", ...groupTable(report.by_level));
  if (plots.levels) lines.push("", `![accuracy by level](${plots.levels})`);
  if (report.by_subject.length) lines.push("", "## By subject", "", ...groupTable(report.by_subject));
  const t = report.tokens;
  lines.push(
    "",
    "## Tokens, latency and cost",
    "",
    "| figure | mean | p50 | p95 | max |",
    "| --- | --- | --- | --- | --- |",
    `| completion tokens per answer | ${t.mean} | ${t.p50} | ${t.p95} | ${t.max} |`,
    `| latency (s) | ${seconds(report.latency_ms.mean)} | ${seconds(report.latency_ms.p50)} | ${seconds(report.latency_ms.p95)} | ${seconds(report.latency_ms.max)} |`,
    report.ttft_ms ? `| time to first token (s) | ${seconds(report.ttft_ms.mean)} | ${seconds(report.ttft_ms.p50)} | ${seconds(report.ttft_ms.p95)} | ${seconds(report.ttft_ms.max)} |` : "",
    "",
    `${t.hit_max_tokens} answer${t.hit_max_tokens === 1 ? "" : "s"} hit max_tokens (finish_reason \`length\`). ${t.total_prompt} prompt and ${t.total_completion} completion tokens in all; decoding at ${report.decode_tokens_per_second_p50 ?? "-"} tokens a second per answer (p50). Duration ${seconds(report.duration_ms)} s.`,
    "",
    `Cost: ${costText(report)}${report.cost.list_micro_usd === null ? "" : `; $${formatMicroUsd(report.cost.list_micro_usd)} at the ledger's list prices (shared/usage.ts)`}.`,
  );
  if (plots.tokens) lines.push("", `![tokens per answer](${plots.tokens})`);
  if (report.errors.length) {
    lines.push("", `## Errors (${report.errors.length}: left out of every rate)`, "", "| problem | sample | status | error |", "| --- | --- | --- | --- |");
    for (const e of report.errors) lines.push(`| ${e.problem_id} | ${e.sample} | ${e.status ?? "-"} | ${e.error.replace(/\|/g, "\\|").slice(0, 200)} |`);
  }
  if (report.undecided.length) {
    lines.push("", `## Undecided by the checker (${report.undecided.length}: counted as wrong)`, "", "| problem | sample | extracted | reference |", "| --- | --- | --- | --- |");
    for (const u of report.undecided) lines.push(`| ${u.problem_id} | ${u.sample} | \`${u.extracted ?? ""}\` | \`${u.reference}\` |`);
  }
  return `${lines.filter((l, i, all) => !(l === "" && all[i - 1] === "")).join("\n")}\n`;
}

function groupTable(groups: readonly GroupRate[]): string[] {
  return ["| group | ours (95% interval) | correct |", "| --- | --- | --- |", ...groups.map((g) => `| ${g.group} | ${formatRate(g)} | ${figure(g)} |`)];
}

function costText(report: EvalReport): string {
  const billed = report.cost.billed_micro_usd;
  if (billed === null) return "not known (not our API)";
  return `$${formatMicroUsd(billed)} billed${billed === 0 && report.cost.list_micro_usd ? " (a test-mode key)" : ""}`;
}

function figure(rate: Rate): string {
  const correct = Number.isInteger(rate.correct) ? String(rate.correct) : rate.correct.toFixed(2);
  return `${correct}/${rate.of}`;
}

function pct(value: number, sign = true): string {
  return `${(value * 100).toFixed(1)}${sign ? "%" : ""}`;
}

function signed(points: number): string {
  return `${points >= 0 ? "+" : ""}${points.toFixed(1)} points`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
}
