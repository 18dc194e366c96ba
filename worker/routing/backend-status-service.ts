/**
 * @module routing/backend-status-service
 * What `GET /admin/v1/backends` shows: every configured backend with what the
 * pool object knows of it (our in-flight count, the breaker, the latest health).
 */
import type { Env } from "../env";
import { loadDeployment } from "./catalogue";
import { poolObject, type PoolBackendStatus } from "./pool-rpc";

export interface BackendStatus {
  name: string;
  url: string;
  kind: "gpu" | "simulator";
  models: string[];
  weight: number;
  region: string | null;
  gpu: string | null;
  max_in_flight: number | null;
  in_flight: number;
  breaker: PoolBackendStatus["breaker"];
  health: {
    state: "warm" | "cold" | "down";
    checked_at: number;
    source: "poll" | "traffic";
    num_requests_running: number | null;
    num_requests_waiting: number | null;
  } | null;
}

export async function backendStatuses(env: Pick<Env, "BACKENDS" | "BACKEND_POOL">): Promise<BackendStatus[]> {
  const { backends } = loadDeployment(env.BACKENDS);
  const pool = (await poolObject(env).status(backends.map((b) => b.url))) as PoolBackendStatus[];
  return backends.map((b, i) => {
    const s = pool[i]!;
    return {
      name: b.name,
      url: b.url,
      kind: b.kind,
      models: b.models,
      weight: b.weight,
      region: b.region ?? null,
      gpu: b.gpu ?? null,
      max_in_flight: b.max_in_flight ?? null,
      in_flight: s.in_flight,
      breaker: s.breaker,
      health: s.health && {
        state: s.health.state,
        checked_at: s.health.checkedAt,
        source: s.health.source,
        num_requests_running: s.health.running,
        num_requests_waiting: s.health.waiting,
      },
    };
  });
}
