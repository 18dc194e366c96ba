/**
 * @module usage-view
 * A usage series as the operator sees it: headline figures and the plots
 * (requests by status, tokens and cost by model, time to first token and
 * duration percentiles). The overview, an account's page and a key holder's
 * page all draw the same answer shape, so they read alike.
 */
import type { ModelUsage, Percentiles, UsageSeries } from "../../shared/usage-series";
import type { ChartSeries } from "./charts";
import { el } from "./dom";
import { formatCount, formatExact, formatMs, formatPercent, formatUsd } from "./format";
import { chartPanel, rowsTable, statTile, tablePanel } from "./panels";

/** How the ledger's statuses read, and their colours (CSS variables in dashboard.css). */
const STATUS_SERIES = [
  { status: "ok", label: "OK", color: "--status-ok" },
  { status: "client_disconnected", label: "Client disconnected", color: "--status-disconnected" },
  { status: "backend_error", label: "Backend error", color: "--status-error" },
  { status: "timeout", label: "Timeout", color: "--status-timeout" },
] as const;

const MODEL_COLORS = ["--series-1", "--series-2", "--series-3", "--series-4", "--series-5", "--series-6"];

const BUCKET_WORDS = { "5min": "5 minutes", hour: "hour", day: "day" } as const;

/** Models in the order of the answer's `models` (most tokens first), each with a fixed colour. */
function modelColors(series: UsageSeries): { model: string; color: string }[] {
  const names = series.models.map((m) => m.model);
  for (const name of Object.keys(series.completion_tokens)) if (!names.includes(name)) names.push(name);
  return names.map((model, i) => ({ model, color: MODEL_COLORS[i % MODEL_COLORS.length]! }));
}

/** Prompt plus completion tokens of one model, per bucket. */
export function modelTokens(series: UsageSeries, model: string): number[] {
  const prompt = series.prompt_tokens[model] ?? [];
  const completion = series.completion_tokens[model] ?? [];
  return series.t.map((_, i) => (prompt[i] ?? 0) + (completion[i] ?? 0));
}

export function usageStats(series: UsageSeries): HTMLElement {
  const t = series.totals;
  const tokens = t.prompt_tokens + t.completion_tokens;
  const errors = t.requests - t.by_status.ok;
  return el(
    "div",
    { class: "stats" },
    statTile("requests", "Requests", formatCount(t.requests), t.cached_requests > 0 ? `${formatCount(t.cached_requests)} from cache` : undefined),
    statTile("tokens", "Tokens", formatCount(tokens), `${formatCount(t.prompt_tokens)} prompt · ${formatCount(t.completion_tokens)} completion`),
    statTile("cost", "Cost", formatUsd(t.cost_micro_usd)),
    statTile("error-rate", "Error rate", formatPercent(t.error_rate), t.requests > 0 ? `${formatCount(errors)} not OK` : undefined),
    statTile("ttft-p50", "First token p50", formatMs(t.ttft_ms.p50)),
    statTile("ttft-p95", "First token p95", formatMs(t.ttft_ms.p95)),
  );
}

function percentileSeries(values: UsageSeries["ttft_ms"], totals: Percentiles): ChartSeries[] {
  return [
    { label: "p50", values: values.p50, color: "--series-1", total: totals.p50 },
    { label: "p95", values: values.p95, color: "--series-2", total: totals.p95 },
  ];
}

export interface UsageChartsOptions {
  /** Plot duration percentiles too (an account's page). */
  duration?: boolean;
}

/** The plots of a series, in the order an operator reads them. */
export function usageCharts(series: UsageSeries, options: UsageChartsOptions = {}): HTMLElement[] {
  const per = BUCKET_WORDS[series.bucket];
  const base = { t: series.t, bucket: series.bucket, restingLabel: "whole range" };
  const models = modelColors(series);
  const byModel = new Map(series.models.map((m) => [m.model, m]));
  const modelTotal = (model: string, pick: (m: ModelUsage) => number) => {
    const m = byModel.get(model);
    return m ? pick(m) : 0;
  };
  const panels = [
    chartPanel({
      id: "requests",
      title: "Requests by status",
      hint: `Requests admitted per ${per}, by how they ended`,
      spec: { ...base, kind: "bars", stacked: true, unit: "requests", series: STATUS_SERIES.map((s) => ({ label: s.label, values: series.requests[s.status], color: s.color, total: series.totals.by_status[s.status] })) },
    }),
    chartPanel({
      id: "tokens",
      title: "Tokens by model",
      hint: `Prompt + completion tokens per ${per}`,
      spec: { ...base, kind: "bars", stacked: true, unit: "tokens", series: models.map((m) => ({ label: m.model, values: modelTokens(series, m.model), color: m.color, total: modelTotal(m.model, (u) => u.prompt_tokens + u.completion_tokens) })) },
    }),
    chartPanel({
      id: "cost",
      title: "Cost by model",
      hint: `Billed per ${per}; test-mode requests cost nothing`,
      spec: { ...base, kind: "bars", stacked: true, unit: "usd", series: models.map((m) => ({ label: m.model, values: series.cost_micro_usd[m.model] ?? [], color: m.color, total: modelTotal(m.model, (u) => u.cost_micro_usd) })) },
    }),
    chartPanel({
      id: "ttft",
      title: "Time to first token",
      hint: `Percentiles per ${per}, from admission to the first token`,
      spec: { ...base, kind: "lines", unit: "ms", series: percentileSeries(series.ttft_ms, series.totals.ttft_ms) },
    }),
  ];
  if (options.duration) {
    panels.push(
      chartPanel({
        id: "duration",
        title: "Request duration",
        hint: `Percentiles per ${per}, requests that ended OK`,
        spec: { ...base, kind: "lines", unit: "ms", series: percentileSeries(series.duration_ms, series.totals.duration_ms) },
      }),
    );
  }
  return panels;
}

/** Totals by model over the range. */
export function modelsPanel(series: UsageSeries): HTMLElement {
  const table = rowsTable<ModelUsage>(
    "models",
    [
      { label: "Model", cell: (m) => m.model },
      { label: "Requests", cell: (m) => formatExact(m.requests), numeric: true },
      { label: "Prompt tokens", cell: (m) => formatExact(m.prompt_tokens), numeric: true },
      { label: "Completion tokens", cell: (m) => formatExact(m.completion_tokens), numeric: true },
      { label: "Cost", cell: (m) => formatUsd(m.cost_micro_usd), numeric: true },
    ],
    series.models,
    "No requests in this range yet.",
  );
  return tablePanel("models", "By model", "Totals over the range", table);
}

/** Latency figures over the whole range, beside the per-bucket plots. */
export function latencyPanel(series: UsageSeries, wide = false): HTMLElement {
  const rows = [
    { name: "Time to first token", p: series.totals.ttft_ms },
    { name: "Duration (OK requests)", p: series.totals.duration_ms },
  ];
  const table = rowsTable(
    "latency",
    [
      { label: "", cell: (r) => r.name },
      { label: "p50", cell: (r) => formatMs(r.p.p50), numeric: true },
      { label: "p95", cell: (r) => formatMs(r.p.p95), numeric: true },
      { label: "p99", cell: (r) => formatMs(r.p.p99), numeric: true },
    ],
    series.totals.requests > 0 ? rows : [],
    "No requests in this range yet.",
  );
  return tablePanel("latency", "Latency over the range", "Nearest-rank percentiles of every request in the range", table, wide);
}
