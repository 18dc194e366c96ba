/**
 * @module pages/backends
 * The GPU backends as the pool object sees them, read again every few
 * seconds: our in-flight generations against each backend's cap, its circuit
 * breaker, its health, and vLLM's own queue and KV-cache usage. The readings
 * since the page opened are plotted, so a queue that builds up shows.
 */
import type { BackendStatus, BackendStatusList } from "../../../shared/backends";
import { apiGet } from "../api";
import { disposeCharts, type ChartSeries } from "../charts";
import { el, replace } from "../dom";
import { formatAge, formatClock, formatExact } from "../format";
import { chartPanel, notice, rowsTable, statTile, tablePanel } from "../panels";
import { badge, pageTitle } from "../shell";

/** How often the page reads the pool again. The cron polls vLLM every minute; traffic updates health sooner. */
export const BACKENDS_REFRESH_MS = 5_000;
/** Readings kept for the plots: ten minutes at one every five seconds. */
const MAX_SAMPLES = 120;
const COLORS = ["--series-1", "--series-2", "--series-3", "--series-4", "--series-5", "--series-6"];

interface Sample {
  at: number;
  byName: Map<string, BackendStatus>;
}

const BREAKER_TONE = { closed: "good", half_open: "warn", open: "bad" } as const;
const BREAKER_TEXT = { closed: "closed", half_open: "half-open (probing)", open: "open" } as const;
const HEALTH_TONE = { warm: "good", cold: "warn", down: "bad" } as const;

function inFlightCell(b: BackendStatus): HTMLElement {
  if (b.max_in_flight === null) return el("span", {}, formatExact(b.in_flight), el("span", { class: "muted" }, " (no cap)"));
  return el(
    "span",
    { class: "gauge" },
    el("progress", { max: b.max_in_flight, value: b.in_flight, "aria-label": `${b.in_flight} of ${b.max_in_flight}` }),
    `${formatExact(b.in_flight)} / ${formatExact(b.max_in_flight)}`,
  );
}

function kvCell(b: BackendStatus): HTMLElement | string {
  const kv = b.health?.kv_cache_usage ?? null;
  if (kv === null) return "—";
  return el("span", { class: "gauge" }, el("meter", { min: 0, max: 1, low: 0.7, high: 0.9, optimum: 0, value: kv }), `${Math.round(kv * 100)}%`);
}

function backendsTable(list: BackendStatus[], now: number): HTMLElement {
  return rowsTable<BackendStatus>(
    "backends",
    [
      { label: "Backend", cell: (b) => el("span", { class: "stack" }, el("strong", {}, b.name), el("span", { class: "muted" }, [b.kind, b.gpu, b.region].filter(Boolean).join(" · "))) },
      { label: "Models", cell: (b) => b.models.join(", ") },
      { label: "In flight", cell: inFlightCell },
      { label: "Breaker", cell: (b) => el("span", { class: "nowrap" }, badge(BREAKER_TEXT[b.breaker.state], BREAKER_TONE[b.breaker.state]), b.breaker.consecutive_failures > 0 ? el("span", { class: "muted" }, ` ${b.breaker.consecutive_failures} failures`) : null) },
      {
        label: "Health",
        cell: (b) =>
          b.health
            ? el("span", { class: "nowrap" }, badge(b.health.state, HEALTH_TONE[b.health.state]), el("span", { class: "muted" }, ` ${b.health.source} · ${formatAge(b.health.checked_at, now)}`))
            : el("span", { class: "muted" }, "not checked yet"),
      },
      { label: "vLLM running", cell: (b) => (b.health?.num_requests_running ?? null) === null ? "—" : formatExact(b.health!.num_requests_running!), numeric: true },
      { label: "vLLM queue", cell: (b) => (b.health?.num_requests_waiting ?? null) === null ? "—" : formatExact(b.health!.num_requests_waiting!), numeric: true },
      { label: "KV cache", cell: kvCell },
    ],
    list,
    "No backends are configured (BACKENDS is empty).",
  );
}

/** One series per backend; a backend that never had a reading (no gauge) is left out rather than drawn as nothing. */
function sampleSeries(samples: Sample[], names: string[], pick: (b: BackendStatus) => number | null, suffix: string): ChartSeries[] {
  const series = names.map((name, i) => ({
    label: `${name}${suffix}`,
    values: samples.map((s) => {
      const b = s.byName.get(name);
      return b ? pick(b) : null;
    }),
    color: COLORS[i % COLORS.length]!,
  }));
  return series.filter((s) => s.values.some((v) => v !== null));
}

function view(list: BackendStatus[], samples: Sample[], now: number): HTMLElement[] {
  const names = list.map((b) => b.name);
  const t = samples.map((s) => s.at);
  const load = [
    ...sampleSeries(samples, names, (b) => b.in_flight, " in flight"),
    ...sampleSeries(samples, names, (b) => b.health?.num_requests_waiting ?? null, " queue").map((s) => ({ ...s, color: COLORS[(COLORS.indexOf(s.color) + names.length) % COLORS.length]! })),
  ];
  const kv = sampleSeries(samples, names, (b) => (b.health?.kv_cache_usage ?? null) === null ? null : Math.round(b.health!.kv_cache_usage! * 1000) / 10, "");
  const warm = list.filter((b) => b.health?.state === "warm").length;
  const open = list.filter((b) => b.breaker.state !== "closed").length;
  return [
    pageTitle("Backends", `Read every ${BACKENDS_REFRESH_MS / 1000} s · last at ${formatClock(now)}`),
    el(
      "div",
      { class: "stats" },
      statTile("backends", "Backends", formatExact(list.length)),
      statTile("warm", "Warm", formatExact(warm)),
      statTile("breakers-open", "Breakers not closed", formatExact(open)),
      statTile("in-flight", "In flight", formatExact(list.reduce((sum, b) => sum + b.in_flight, 0))),
      statTile("queue", "vLLM queue", formatExact(list.reduce((sum, b) => sum + (b.health?.num_requests_waiting ?? 0), 0))),
    ),
    el(
      "div",
      { class: "grid" },
      tablePanel("backends", "Pool", "In flight is ours, across every isolate; running, queue and KV cache are vLLM's own gauges", backendsTable(list, now), true),
      chartPanel({
        id: "backend-load",
        title: "In flight and vLLM queue",
        hint: "Since this page opened",
        spec: { kind: "lines", t, bucket: "sample", unit: "requests", series: load },
        emptyText: "No reading of the pool yet.",
      }),
      chartPanel({
        id: "backend-kv",
        title: "KV-cache usage",
        hint: "vLLM's gauge, as last polled",
        spec: { kind: "lines", t, bucket: "sample", unit: "percent", series: kv },
        emptyText: "No KV-cache reading yet: the cron reads vLLM's /metrics every minute.",
      }),
    ),
  ];
}

/** Draws the page into `main` and reads the pool every few seconds; returns what stops it. */
export function startBackendsPage(main: HTMLElement, onProblem: (err: unknown) => void): () => void {
  const samples: Sample[] = [];
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    try {
      const { data } = await apiGet<BackendStatusList>("/admin/v1/backends");
      if (stopped) return;
      const now = Date.now();
      samples.push({ at: now, byName: new Map(data.map((b) => [b.name, b])) });
      if (samples.length > MAX_SAMPLES) samples.shift();
      disposeCharts();
      replace(main, ...view(data, samples, now));
    } catch (err) {
      if (stopped) return;
      if (samples.length === 0) replace(main, notice("error", err instanceof Error ? err.message : "The backends could not be read."));
      onProblem(err);
    }
    if (!stopped) timer = setTimeout(() => void tick(), BACKENDS_REFRESH_MS);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
