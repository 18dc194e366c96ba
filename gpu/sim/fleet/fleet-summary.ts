/**
 * @module fleet/fleet-summary
 * The few figures a fleet experiment reads off one deployment's
 * `/sim/stats`: preemptions, time held at Modal's edge, 303s and 503s,
 * per-container utilisation, tokens, and billed container time. Pure, so
 * `npm run fleet` and the tests compute them the same way.
 */
import type { SimStats } from "../instance";

/** One deployment's figures; times in simulated seconds. */
export interface DeploymentSummary {
  profile: string;
  preemptions: number;
  /** Seconds inputs spent queued at the edge, summed, and the longest single wait. */
  edge_wait_seconds_total: number;
  edge_wait_seconds_max: number;
  redirects_303: number;
  unavailable_503: number;
  cold_starts: number;
  container_losses: number;
  generation_tokens: number;
  recomputed_tokens: number;
  /** Container seconds Modal bills (boot and idle included). */
  container_seconds: number;
  /** Engine busy seconds over billed container seconds, whole deployment. */
  utilisation: number;
  /** Per live container: busy seconds over its up seconds. */
  container_utilisation: Record<string, number>;
  /** Output tokens per billed container second (= per GPU second). */
  tokens_per_gpu_second: number;
}

/** The summary of one deployment, or null when its instance runs the simple pacing (no profile). */
export function summarizeDeployment(stats: SimStats): DeploymentSummary | null {
  const fleet = stats.fleet;
  if (!fleet) return null;
  const t = fleet.totals;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  return {
    profile: fleet.profile,
    preemptions: t.preemptions_total,
    edge_wait_seconds_total: t.edge_wait_seconds_total,
    edge_wait_seconds_max: t.edge_wait_seconds_max,
    redirects_303: fleet.edge.redirects_total,
    unavailable_503: fleet.edge.unavailable_total,
    cold_starts: t.cold_starts_total,
    container_losses: t.container_losses_total,
    generation_tokens: t.generation_tokens_total,
    recomputed_tokens: t.recomputed_tokens_total,
    container_seconds: t.container_seconds_total,
    utilisation: ratio(t.gpu_busy_seconds_total, t.container_seconds_total),
    container_utilisation: Object.fromEntries(fleet.containers.map((c) => [c.id, ratio(c.busy_seconds, c.up_seconds)])),
    tokens_per_gpu_second: ratio(t.generation_tokens_total, t.container_seconds_total),
  };
}
