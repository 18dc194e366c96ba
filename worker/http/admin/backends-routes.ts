/**
 * @module admin/backends
 * `GET /admin/v1/backends`: every configured backend with what the pool
 * object knows of it: our in-flight count against `max_in_flight`, the
 * circuit breaker, and the latest health (cron-polled vLLM gauges, or what
 * traffic showed).
 */
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { loadDeployment } from "../../routing/catalogue";
import { backendPool } from "../../routing/backend-pool-do";
import { ADMIN_BASE_PATH, ADMIN_SECURITY, adminErrors, type AdminApp } from "./admin-common";

const BackendStatusSchema = z.object({
  name: z.string(),
  url: z.string(),
  kind: z.enum(["gpu", "simulator"]),
  models: z.array(z.string()),
  weight: z.number(),
  region: z.string().nullable(),
  gpu: z.string().nullable(),
  max_in_flight: z.number().int().nullable().describe("null: no limit of ours"),
  in_flight: z.number().int().describe("Generations we have on it now (all isolates)"),
  breaker: z.object({
    state: z.enum(["closed", "open", "half_open"]),
    consecutive_failures: z.number().int(),
    opened_at: z.number().int().nullable().describe("Unix ms"),
  }),
  health: z
    .object({
      state: z.enum(["warm", "cold", "down"]),
      checked_at: z.number().int().describe("Unix ms"),
      source: z.enum(["poll", "traffic"]),
      num_requests_running: z.number().nullable(),
      num_requests_waiting: z.number().nullable(),
    })
    .nullable()
    .describe("null until polled or used"),
});

const get = createRoute({
  method: "get",
  path: `${ADMIN_BASE_PATH}/backends`,
  tags: ["Admin: backends"],
  summary: "List the GPU backends with their load, circuit breaker and health",
  security: ADMIN_SECURITY,
  responses: {
    200: { description: "Every backend in BACKENDS", content: { "application/json": { schema: z.object({ data: z.array(BackendStatusSchema) }) } } },
    ...adminErrors,
  },
});

export function registerBackendAdminRoutes(app: AdminApp): void {
  app.openapi(get, async (c) => {
    const { backends } = loadDeployment(c.env.BACKENDS);
    const pool = await backendPool(c.env).status(backends.map((b) => b.url));
    const data = backends.map((b, i) => {
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
    return c.json({ data }, 200, { "cache-control": "no-store" });
  });
}
