/**
 * @module panels
 * The page's building blocks: a chart panel (title, plot or empty state, and
 * the same numbers as a table for screen readers and for checking), a stat
 * tile, a data table, and a notice. Everything is built with `el`, so data
 * is text.
 */
import { formatBucket, formatClock } from "./format";
import { el, type Child } from "./dom";
import { formatValue, isEmpty, mountChart, UNIT_LABELS, type ChartSpec } from "./charts";

export interface ChartPanelOptions {
  /** Stable id for tests and styling: `data-chart`. */
  id: string;
  title: string;
  /** One line under the title: what is counted and how. */
  hint: string;
  spec: ChartSpec;
  /** What an empty range says instead of a flat plot. */
  emptyText?: string;
  /** Spans the grid's full width. */
  wide?: boolean;
}

const DEFAULT_EMPTY_TEXT = "No requests in this range yet.";

export function chartPanel(options: ChartPanelOptions): HTMLElement {
  const { spec } = options;
  const panel = el("section", { class: options.wide ? "panel wide" : "panel", "data-chart": options.id, "aria-label": options.title });
  panel.append(el("header", { class: "panel-head" }, el("h3", {}, options.title), el("p", { class: "hint" }, options.hint)));
  if (isEmpty(spec)) {
    panel.dataset.points = "0";
    panel.dataset.empty = "true";
    panel.append(el("div", { class: "empty" }, el("p", {}, options.emptyText ?? DEFAULT_EMPTY_TEXT)));
    return panel;
  }
  const target = el("div", { class: "chart", role: "img", "aria-label": `${options.title}: ${spec.t.length} points` });
  panel.append(target, dataTable(spec));
  mountChart(target, panel, spec);
  return panel;
}

/** The plot's numbers: one row per bucket, `data-value` holding the raw figure the plot was drawn from. */
function dataTable(spec: ChartSpec): HTMLElement {
  const label = (ms: number) => (spec.bucket === "sample" ? formatClock(ms) : formatBucket(ms, spec.bucket));
  const head = el("tr", {}, el("th", { scope: "col" }, spec.bucket === "sample" ? "Time" : "Bucket"), ...spec.series.map((s) => el("th", { scope: "col" }, s.label)));
  const rows = spec.t.map((ms, i) =>
    el(
      "tr",
      { "data-t": ms },
      el("th", { scope: "row" }, label(ms)),
      ...spec.series.map((s) => {
        const value = s.values[i] ?? null;
        return el("td", { "data-value": value === null ? "" : value }, formatValue(spec.unit, value));
      }),
    ),
  );
  return el(
    "details",
    { class: "data" },
    el("summary", {}, `Data table (${UNIT_LABELS[spec.unit]})`),
    el("div", { class: "table-scroll" }, el("table", { class: "numbers" }, el("thead", {}, head), el("tbody", {}, ...rows))),
  );
}

/** A headline figure: `data-stat` names it for tests. */
export function statTile(id: string, label: string, value: string, detail?: string): HTMLElement {
  return el(
    "div",
    { class: "stat", "data-stat": id },
    el("span", { class: "stat-label" }, label),
    el("strong", { class: "stat-value" }, value),
    detail ? el("span", { class: "stat-detail" }, detail) : null,
  );
}

export interface Column<Row> {
  label: string;
  cell: (row: Row) => Child;
  /** Right-aligned figures. */
  numeric?: boolean;
}

/** A table of rows, or `emptyText` when there are none. */
export function rowsTable<Row>(id: string, columns: Column<Row>[], rows: Row[], emptyText: string): HTMLElement {
  if (rows.length === 0) return el("div", { class: "empty", "data-table": id, "data-empty": "true" }, el("p", {}, emptyText));
  return el(
    "div",
    { class: "table-scroll" },
    el(
      "table",
      { class: "rows", "data-table": id },
      el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", class: c.numeric ? "num" : null }, c.label)))),
      el("tbody", {}, ...rows.map((row) => el("tr", {}, ...columns.map((c) => el("td", { class: c.numeric ? "num" : null }, c.cell(row)))))),
    ),
  );
}

/** A panel holding a table, with a title and hint like the chart panels. */
export function tablePanel(id: string, title: string, hint: string, body: HTMLElement, wide = false): HTMLElement {
  return el(
    "section",
    { class: wide ? "panel wide" : "panel", "data-panel": id, "aria-label": title },
    el("header", { class: "panel-head" }, el("h3", {}, title), el("p", { class: "hint" }, hint)),
    body,
  );
}

/** A message across the page: `error` for what went wrong, `info` otherwise. */
export function notice(kind: "error" | "info", text: string): HTMLElement {
  return el("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}
