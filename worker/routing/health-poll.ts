/**
 * @module routing/health-poll
 * What the cron trigger does every minute: read each backend's `/health` and
 * vLLM `/metrics` (`vllm:num_requests_running`, `vllm:num_requests_waiting`,
 * `vllm:kv_cache_usage_perc`) and store them in the pool object, where the router reads them with the
 * slot lease it asks for anyway (no extra read on the hot path) and
 * `GET /admin/v1/backends` shows them.
 *
 * Pinging a scale-to-zero Modal endpoint boots a container, so polling is
 * pre-warming: GPU backends are polled only during PREWARM_HOURS_UTC (that is
 * the pre-warm schedule) or while we have requests on them (they are warm
 * anyway). Simulators are always polled.
 *
 * Behind Modal, `/health` and `/metrics` are inputs like any other: while a
 * container boots, or while every container is full, they wait at Modal's
 * edge, so the poll's timeout is not an outage. A `/health` that times out
 * (or is held long enough for a 303) is recorded `cold` (held: booting or
 * saturated), never `down`; `down` is kept for a refused connection or a
 * failing answer. A `/metrics` that times out after a good `/health` leaves
 * the backend warm with unknown gauges.
 */
import type { BackendConfig } from "../../shared/backends";
import type { Env } from "../env";
import { log } from "../core/log";
import { backendHeaders, joinUrl } from "./backend-client";
import { loadDeployment } from "./catalogue";
import { poolObject, type HealthSnapshot } from "./pool-rpc";

/** Longest wait for one backend's /health or /metrics, in ms: the cron must finish well inside its minute. */
const POLL_TIMEOUT_MS = 5_000;

type PollEnv = Pick<Env, "BACKENDS" | "BACKEND_POOL" | "PREWARM_HOURS_UTC" | "MODAL_KEY" | "MODAL_SECRET" | "VLLM_API_KEY">;

/** Polls the due backends and stores what they said; `timeoutMs` per request (tests shorten it). */
export async function pollBackends(env: PollEnv, now = new Date(), timeoutMs = POLL_TIMEOUT_MS): Promise<{ polled: string[] }> {
  const deployment = loadDeployment(env.BACKENDS);
  const pool = poolObject(env);
  const warmHours = inHours(env.PREWARM_HOURS_UTC, now.getUTCHours());
  const due: BackendConfig[] = [];
  for (const backend of deployment.backends) {
    if (backend.kind === "simulator" || warmHours || (await pool.inFlight(backend.url)) > 0) due.push(backend);
  }
  const entries = await Promise.all(due.map(async (b) => ({ key: b.url, health: await pollOne(b, env, timeoutMs) })));
  if (entries.length > 0) await pool.recordHealth(entries);
  log("info", "backends polled", { polled: due.map((b) => b.name), prewarm: warmHours });
  return { polled: due.map((b) => b.name) };
}

async function pollOne(backend: BackendConfig, env: PollEnv, timeoutMs: number): Promise<HealthSnapshot> {
  const headers = backendHeaders(env);
  headers.delete("content-type");
  const get = (path: string) => fetch(joinUrl(backend.url, path), { headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  const snapshot: HealthSnapshot = { checkedAt: Date.now(), state: "down", running: null, waiting: null, kvCacheUsage: null, source: "poll" };
  try {
    const health = await get("/health");
    const text = await health.text();
    if (health.ok) snapshot.state = "warm";
    else if (health.status === 303 || (health.status === 503 && /start|cold|no containers|no live replica|loading/i.test(text))) snapshot.state = "cold";
    if (!health.ok) return snapshot;
    const metrics = await get("/metrics");
    if (metrics.ok) {
      const text = await metrics.text();
      Object.assign(snapshot, parseVllmGauges(text), { kvCacheUsage: parseKvCacheUsage(text) });
    } else await metrics.body?.cancel();
  } catch (err) {
    // Held past the timeout: Modal's edge is queueing it (a boot, or every container busy), not a dead host.
    if (snapshot.state === "down" && isTimeout(err)) snapshot.state = "cold";
    log("warn", "backend poll failed", { backend: backend.name, error: String(err), recorded: snapshot.state });
  }
  return snapshot;
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError" || /timed? ?out/i.test(err.message));
}

/** Sums vLLM's running and waiting gauges over every model and engine in a Prometheus text page. */
export function parseVllmGauges(text: string): { running: number | null; waiting: number | null } {
  let running: number | null = null;
  let waiting: number | null = null;
  for (const line of text.split("\n")) {
    const match = /^vllm:num_requests_(running|waiting)(?:\{[^}]*\})?\s+([0-9.eE+-]+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    if (match[1] === "running") running = (running ?? 0) + value;
    else waiting = (waiting ?? 0) + value;
  }
  return { running, waiting };
}

/**
 * vLLM's KV-cache usage (0 to 1) in a Prometheus text page: the fullest of its
 * engines, since the one nearest to full is the one that will start preempting.
 */
export function parseKvCacheUsage(text: string): number | null {
  let usage: number | null = null;
  for (const line of text.split("\n")) {
    const match = /^vllm:kv_cache_usage_perc(?:\{[^}]*\})?\s+([0-9.eE+-]+)/.exec(line);
    const value = match ? Number(match[1]) : Number.NaN;
    if (Number.isFinite(value)) usage = Math.max(usage ?? 0, Math.min(1, Math.max(0, value)));
  }
  return usage;
}

/** Whether `hour` is in `start-end` (UTC, end exclusive, may wrap midnight). */
export function inHours(spec: string | undefined, hour: number): boolean {
  const match = /^\s*(\d{1,2})\s*-\s*(\d{1,2})\s*$/.exec(spec ?? "");
  if (!match) return false;
  const start = Number(match[1]);
  const end = Number(match[2]);
  return start <= end ? hour >= start && hour < end : hour >= start || hour < end;
}
