/**
 * @module health-routes
 * `GET /healthz`: liveness, and a check that the backend configuration
 * parses (no key needed).
 */
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { loadDeployment } from "../routing/catalogue";
import type { App } from "./hono-env";
import { errorDoc } from "./openapi/openapi-schemas";

const health = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Operations"],
  summary: "Liveness, and a check of the backend configuration (no key needed)",
  responses: {
    200: { description: "Healthy", content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } } },
    500: errorDoc("The deployment is misconfigured."),
  },
});

export function registerHealthRoutes(app: App): void {
  app.openapi(health, (c) => {
    loadDeployment(c.env.BACKENDS);
    return c.json({ status: "ok" as const }, 200);
  });
}
