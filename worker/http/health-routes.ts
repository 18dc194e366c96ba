/**
 * @module health-routes
 * `GET /healthz`: liveness, and a check that the backend configuration
 * parses (no key needed). A refused configuration answers 500 with its
 * reason in the message (which entry, what is wrong): this is the operators'
 * check, and the reason names configuration, never a secret.
 */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { ApiError } from "../core/errors";
import { deploymentProblem } from "../routing/catalogue";
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
    const problem = deploymentProblem(c.env.BACKENDS);
    if (problem !== null) throw new ApiError("misconfigured", `The service is misconfigured: ${problem}`, { internal: problem });
    return c.json({ status: "ok" as const }, 200);
  });
}
