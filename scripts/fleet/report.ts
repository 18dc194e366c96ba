/**
 * @module fleet/report
 * What `npm run fleet` prints and writes: per policy p50/p95/p99 time to
 * first token, output tokens per second per GPU, preemptions, time held at
 * Modal's edge, 503s, $ per million output tokens, with ratios against round
 * robin; where the slowest first tokens waited (the gateway, Modal's edge
 * queue, vLLM's queue and prefill, the relay), with each request's path in
 * the JSON; a table, a JSON document and an SVG of the TTFT CDFs.
 */
import type { PolicyRun, RequestResult } from "./run-policy";

export interface PolicyFigures {
  policy: string;
  requests: number;
  ok: number;
  status_503: number;
  cache_hits: number;
  ttft_p50_s: number | null;
  ttft_p95_s: number | null;
  ttft_p99_s: number | null;
  output_tokens_per_gpu_second: number;
  preemptions: number;
  modal_edge_wait_s: number;
  redirects_303: number;
  usd_per_million_output_tokens: number;
  /** Where the slowest 5 % of first tokens (TTFT at or above p95) waited. */
  ttft_tail: TailFigures;
}

/** Mean simulated seconds of each part of the TTFT over the tail's requests (those whose path is known). */
export interface TailFigures {
  requests: number;
  gateway_s: number | null;
  modal_edge_wait_s: number | null;
  vllm_queue_and_prefill_s: number | null;
  relay_s: number | null;
  /** Tail requests per backend. */
  by_backend: Record<string, number>;
}

export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Figures of one run; `usdPerGpuSecond` prices a container (GPU, cores, memory) a second. */
export function figuresOf(run: PolicyRun, gpus: number, usdPerGpuSecond: number): PolicyFigures {
  const ttfts = run.results.flatMap((r) => (r.ttft === null ? [] : [r.ttft])).sort((a, b) => a - b);
  const gpuSeconds = gpus * run.seconds;
  return {
    policy: run.policy,
    requests: run.results.length,
    ok: run.results.filter((r) => r.status === 200 && r.ttft !== null).length,
    status_503: run.results.filter((r) => r.status === 503).length,
    cache_hits: run.results.filter((r) => r.cached).length,
    ttft_p50_s: quantile(ttfts, 0.5),
    ttft_p95_s: quantile(ttfts, 0.95),
    ttft_p99_s: quantile(ttfts, 0.99),
    output_tokens_per_gpu_second: run.fleet.generationTokens / gpuSeconds,
    preemptions: run.fleet.preemptions,
    modal_edge_wait_s: run.fleet.edgeWaitSeconds,
    redirects_303: run.fleet.redirects,
    usd_per_million_output_tokens: run.fleet.generationTokens > 0 ? (run.fleet.containerSeconds * usdPerGpuSecond * 1e6) / run.fleet.generationTokens : 0,
    ttft_tail: tailOf(run, quantile(ttfts, 0.95)),
  };
}

/** The TTFT parts of the requests at or above `p95`. */
export function tailOf(run: PolicyRun, p95: number | null): TailFigures {
  const tail = p95 === null ? [] : run.results.filter((r) => r.ttft !== null && r.ttft >= p95);
  const mean = (pick: (p: NonNullable<RequestResult["path"]>) => number | null) => {
    const values = tail.flatMap((r) => (r.path && pick(r.path) !== null ? [pick(r.path)!] : []));
    return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
  };
  const by_backend: Record<string, number> = {};
  for (const r of tail) if (r.path) by_backend[r.path.backend] = (by_backend[r.path.backend] ?? 0) + 1;
  return {
    requests: tail.length,
    gateway_s: mean((p) => p.gateway_s),
    modal_edge_wait_s: mean((p) => p.modal_edge_wait_s),
    vllm_queue_and_prefill_s: mean((p) => p.vllm_queue_and_prefill_s),
    relay_s: mean((p) => p.relay_s),
    by_backend,
  };
}

/** Where each policy's slowest first tokens waited, as a table. */
export function tailTable(all: readonly PolicyFigures[]): string {
  const fmt = (v: number | null) => (v === null ? "-" : v.toFixed(2));
  return [
    "| policy | TTFT >= p95 | at the gateway s | Modal edge queue s | vLLM queue + prefill s | relay s | per backend |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...all.map((f) => {
      const t = f.ttft_tail;
      const backends = Object.entries(t.by_backend).map(([b, n]) => `${b}: ${n}`).join(", ");
      return `| ${f.policy} | ${t.requests} | ${fmt(t.gateway_s)} | ${fmt(t.modal_edge_wait_s)} | ${fmt(t.vllm_queue_and_prefill_s)} | ${fmt(t.relay_s)} | ${backends} |`;
    }),
  ].join("\n");
}

/** Each figure over round robin's (null where round robin's is 0 or missing). */
export function ratiosOf(all: readonly PolicyFigures[]): Record<string, Record<string, number | null>> {
  const base = all.find((f) => f.policy === "round-robin");
  const keys = ["ttft_p50_s", "ttft_p95_s", "ttft_p99_s", "output_tokens_per_gpu_second", "preemptions", "modal_edge_wait_s", "usd_per_million_output_tokens"] as const;
  return Object.fromEntries(
    all.map((f) => [f.policy, Object.fromEntries(keys.map((k) => [k, base && base[k] ? (f[k] ?? 0) / (base[k] as number) : null]))]),
  );
}

export function table(all: readonly PolicyFigures[], ratios: Record<string, Record<string, number | null>>): string {
  const fmt = (v: number | null, digits = 2) => (v === null ? "-" : v.toFixed(digits));
  const rows = all.map((f) => {
    const r = ratios[f.policy] ?? {};
    return `| ${f.policy} | ${f.ok}/${f.requests} | ${fmt(f.ttft_p50_s)} | ${fmt(f.ttft_p95_s)} (${fmt(r.ttft_p95_s ?? null)}x) | ${fmt(f.ttft_p99_s)} | ${fmt(f.output_tokens_per_gpu_second, 1)} (${fmt(r.output_tokens_per_gpu_second ?? null)}x) | ${f.preemptions} | ${fmt(f.modal_edge_wait_s, 1)} | ${f.status_503} | ${f.cache_hits} | ${fmt(f.usd_per_million_output_tokens)} |`;
  });
  return [
    "| policy | answered | TTFT p50 s | TTFT p95 s (vs RR) | TTFT p99 s | output tok/s/GPU (vs RR) | preemptions | Modal edge wait s | 503s | cache hits | $/M output tokens |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

const COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"];

/** An SVG of each policy's TTFT CDF (simulated seconds, log x axis). */
export function cdfSvg(runs: readonly PolicyRun[]): string {
  const W = 640, H = 360, L = 60, B = 40, T = 30, R = 150;
  const series = runs.map((r) => r.results.flatMap((x) => (x.ttft === null ? [] : [Math.max(0.01, x.ttft)])).sort((a, b) => a - b));
  const all = series.flat();
  const lo = Math.log10(Math.max(0.01, Math.min(...all, 1)));
  const hi = Math.log10(Math.max(...all, 1) * 1.1);
  const x = (v: number) => L + ((Math.log10(v) - lo) / (hi - lo || 1)) * (W - L - R);
  const y = (p: number) => H - B - p * (H - B - T);
  const paths = series.map((s, i) => {
    const pts = s.map((v, j) => `${x(v).toFixed(1)},${y((j + 1) / s.length).toFixed(1)}`).join(" ");
    return `<polyline fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2" points="${pts}"/>` +
      `<text x="${W - R + 10}" y="${T + 20 * i + 10}" fill="${COLOURS[i % COLOURS.length]}" font-size="13">${runs[i]!.policy}</text>`;
  });
  const ticks: string[] = [];
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    ticks.push(`<line x1="${x(10 ** e)}" y1="${H - B}" x2="${x(10 ** e)}" y2="${T}" stroke="#ddd"/><text x="${x(10 ** e)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${10 ** e}</text>`);
  }
  for (const p of [0, 0.5, 0.95, 1]) ticks.push(`<text x="${L - 6}" y="${y(p) + 4}" font-size="11" text-anchor="end">${p}</text><line x1="${L}" y1="${y(p)}" x2="${W - R}" y2="${y(p)}" stroke="#eee"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${L}" y="18" font-size="14">Time to first token, CDF per routing policy (simulated seconds, log scale)</text>
${ticks.join("\n")}
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${H - B}" x2="${L}" y2="${T}" stroke="black"/>
${paths.join("\n")}
</svg>
`;
}
