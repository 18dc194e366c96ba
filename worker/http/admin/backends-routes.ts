/**
 * @module admin/backends-routes
 * `GET /admin/v1/backends`: every configured backend with what the pool
 * object knows of it: our in-flight count against `max_in_flight`, the
 * circuit breaker, and the latest health (cron-polled vLLM gauges: running,
 * queue and KV-cache usage; or what traffic showed). The dashboard's
 * backends page reads it every few seconds.
 */
import { createRoute } from "@hono/zod-openapi";
import { BackendStatusListSchema } from "../../../shared/backends";
import { backendStatuses } from "../../routing/backend-status-service";
import { ADMIN_BASE_PATH, ADMIN_SECURITY, adminErrors, type AdminApp } from "./admin-common";

const get = createRoute({
  method: "get",
  path: `${ADMIN_BASE_PATH}/backends`,
  tags: ["Admin: backends"],
  summary: "List the GPU backends with their load, circuit breaker and health",
  security: ADMIN_SECURITY,
  responses: {
    200: { description: "Every backend in BACKENDS", content: { "application/json": { schema: BackendStatusListSchema } } },
    ...adminErrors,
  },
});

export function registerBackendAdminRoutes(app: AdminApp): void {
  app.openapi(get, async (c) => {
    const data = await backendStatuses(c.env);
    return c.json({ data }, 200, { "cache-control": "no-store" });
  });
}
