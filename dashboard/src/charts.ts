/**
 * @module charts
 * Time-series plots with uPlot: bars (stacked where parts make a whole, such
 * as requests by status) and lines (percentiles), axes that carry their unit,
 * a legend whose values follow the cursor, colours from the page's CSS
 * variables (so light and dark mode both read), times in the viewer's zone.
 * Each plot marks its panel with `data-points` and, once drawn, `data-drawn`,
 * which is what the browser tests count.
 */
import uPlot from "uplot";
import { formatBucket, formatClock, formatCount, formatExact, formatMs, formatUsd } from "./format";
import type { SeriesBucket } from "../../shared/usage-series";

/** What a plot's values measure: it picks the axis label and how ticks and legend values read. */
export type Unit = "requests" | "tokens" | "usd" | "ms" | "count" | "percent";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** A CSS custom property holding the colour, e.g. `--series-1`. */
  color: string;
  /** What the legend shows while the cursor is off the plot (the range's total); default: the last value. */
  total?: number | null;
}

export interface ChartSpec {
  kind: "bars" | "lines";
  /** Bars only: each series sits on the ones before it. */
  stacked?: boolean;
  /** Bucket starts (or sample times), Unix milliseconds. */
  t: number[];
  /** How x values are labelled: a bucket's width, or `sample` for live readings. */
  bucket: SeriesBucket | "sample";
  series: ChartSeries[];
  unit: Unit;
  /** What the legend's time entry reads while the cursor is off the plot, e.g. `whole range`. Default: the last time. */
  restingLabel?: string;
}

const CHART_HEIGHT_PX = 220;
const FALLBACK_WIDTH_PX = 640;
const AXIS_FONT = "12px system-ui, -apple-system, 'Segoe UI', sans-serif";
const MICRO_PER_CENT = 10_000;

export const UNIT_LABELS: Readonly<Record<Unit, string>> = {
  requests: "requests",
  tokens: "tokens",
  usd: "USD",
  ms: "latency",
  count: "count",
  percent: "% used",
};

/** A value as the legend and the data table show it. */
export function formatValue(unit: Unit, value: number | null): string {
  if (value === null) return "—";
  switch (unit) {
    case "usd":
      return formatUsd(value);
    case "ms":
      return formatMs(value);
    case "percent":
      return `${Math.round(value)}%`;
    default:
      return formatExact(value);
  }
}

/** A tick on the y axis: shorter than a legend value. */
function formatTick(unit: Unit, value: number): string {
  switch (unit) {
    case "usd":
      return value !== 0 && Math.abs(value) < MICRO_PER_CENT ? `$${(value / 1_000_000).toPrecision(2)}` : formatUsd(value);
    case "ms":
      return formatMs(value);
    case "percent":
      return `${value}%`;
    default:
      return formatCount(value);
  }
}

/**
 * True when there is nothing to plot, so the panel says so instead of drawing
 * a flat line: no series has a value other than 0 (usage), or, for live
 * readings, no series has a reading at all (a gauge at 0 is a reading).
 */
export function isEmpty(spec: ChartSpec): boolean {
  const nothing = (v: number | null) => v === null || (v === 0 && spec.bucket !== "sample");
  return spec.t.length === 0 || spec.series.every((s) => s.values.every(nothing));
}

const live = new Set<{ plot: uPlot; observer: ResizeObserver }>();

/** Destroys every plot (before a page is drawn anew). */
export function disposeCharts(): void {
  for (const chart of live) {
    chart.observer.disconnect();
    chart.plot.destroy();
  }
  live.clear();
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/** Running sums in series order: series i is drawn from the sum of series 0..i-1 up to the sum of 0..i. */
function stack(series: ChartSeries[]): number[][] {
  const sums: number[][] = [];
  series.forEach((s, i) => sums.push(s.values.map((v, j) => (v ?? 0) + (i > 0 ? sums[i - 1]![j]! : 0))));
  return sums;
}

/** Nice steps for a latency axis: milliseconds up to seconds and minutes. */
const MS_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 250, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5];
/** Whole steps for counts: a tick at 0.5 requests reads as a bug. */
const COUNT_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8];

function lastValue(values: (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i]!;
  return null;
}

/** Draws `spec` into `target` (whose width it takes and follows) and marks `panel` for the tests. */
export function mountChart(target: HTMLElement, panel: HTMLElement, spec: ChartSpec): void {
  panel.dataset.points = String(spec.t.length);
  panel.dataset.series = String(spec.series.length);
  const stacked = spec.kind === "bars" && spec.stacked === true;
  const drawn = stacked ? stack(spec.series) : spec.series.map((s) => s.values);
  // Each stacked part is filled only between its running sum and the one below it (uPlot's bands).
  const bands: uPlot.Band[] = stacked ? spec.series.slice(1).map((_, i) => ({ series: [i + 2, i + 1] })) : [];
  const text = cssVar("--chart-text");
  const grid = cssVar("--chart-grid");
  const xs = spec.t.map((ms) => ms / 1000);
  const step = xs.length > 1 ? xs[1]! - xs[0]! : 300;
  const bars = uPlot.paths.bars!({ size: [0.72, 56], gap: 1 });
  const xLabel = (seconds: number) => (spec.bucket === "sample" ? formatClock(seconds * 1000) : formatBucket(seconds * 1000, spec.bucket));

  const options: uPlot.Options = {
    width: target.clientWidth || FALLBACK_WIDTH_PX,
    height: CHART_HEIGHT_PX,
    cursor: { points: { show: spec.kind === "lines" }, drag: { x: false, y: false } },
    legend: { show: true, live: true },
    scales: {
      x: { time: true, range: (_u, min, max) => (spec.kind === "bars" ? [min - step / 2, max + step / 2] : [min, max]) },
      y: { range: (_u, _min, max) => (spec.unit === "percent" ? [0, 100] : [0, max > 0 ? max * 1.12 : 1]) },
    },
    axes: [
      { stroke: text, font: AXIS_FONT, grid: { show: false }, ticks: { stroke: grid, size: 4 } },
      {
        stroke: text,
        font: AXIS_FONT,
        label: UNIT_LABELS[spec.unit],
        labelFont: AXIS_FONT,
        labelSize: 18,
        size: 64,
        grid: { stroke: grid, width: 1 },
        ticks: { show: false },
        values: (_u, ticks) => ticks.map((v) => formatTick(spec.unit, v)),
        incrs: spec.unit === "usd" ? undefined : spec.unit === "ms" ? MS_INCRS : COUNT_INCRS,
      },
    ],
    bands,
    series: [
      { label: spec.bucket === "sample" ? "Time" : "Bucket", value: (_u, v) => (v === null ? (spec.restingLabel ?? xLabel(xs[xs.length - 1]!)) : xLabel(v)) },
      ...spec.series.map((s): uPlot.Series => {
        const color = cssVar(s.color);
        const raw = s.values;
        const resting = formatValue(spec.unit, s.total === undefined ? lastValue(raw) : s.total);
        return {
          label: s.label,
          stroke: color,
          width: spec.kind === "lines" ? 2 : 0,
          fill: spec.kind === "bars" ? color : undefined,
          paths: spec.kind === "bars" ? bars : undefined,
          points: { show: spec.kind === "lines", size: 5, fill: color },
          spanGaps: false,
          // The legend shows each part's own value, not the running sum it is drawn to.
          value: (_u, _v, _si, idx) => (idx === null || idx === undefined ? resting : formatValue(spec.unit, raw[idx] ?? null)),
        };
      }),
    ],
    hooks: { draw: [() => (panel.dataset.drawn = "true")] },
  };
  const plot = new uPlot(options, [xs, ...drawn] as uPlot.AlignedData, target);
  const observer = new ResizeObserver(() => {
    const width = target.clientWidth;
    if (width > 0 && width !== plot.width) plot.setSize({ width, height: CHART_HEIGHT_PX });
  });
  observer.observe(target);
  live.add({ plot, observer });
}
