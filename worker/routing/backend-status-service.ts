/**
 * @module routing/backend-status-service
 * What `GET /admin/v1/backends` shows: every configured backend with what the
 * pool object knows of it (our in-flight count, the breaker, the latest health).
 */
import type { BackendStatus } from "../../shared/backends";
import type { Env } from "../env";
import { loadDeployment } from "./catalogue";
import { poolObject, type PoolBackendStatus } from "./pool-rpc";

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
        kv_cache_usage: s.health.kvCacheUsage ?? null,
      },
    };
  });
}
