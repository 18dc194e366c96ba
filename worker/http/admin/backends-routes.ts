/**
 * @module admin/backends-routes
 * `GET /admin/v1/backends`: every configured backend with what the pool
 * object knows of it: our in-flight count against `max_in_flight`, the
 * circuit breaker, and the latest health (cron-polled vLLM gauges, or what
 * traffic showed).
 */
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { backendStatuses } from "../../routing/backend-status-service";
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
    const data = await backendStatuses(c.env);
    return c.json({ data }, 200, { "cache-control": "no-store" });
  });
}
