/**
 * @module documented-route
 * Registers a route from one definition: its OpenAPI operation (createRoute)
 * goes into the document, and its handlers onto the same method and path.
 * For routes whose handlers read their own bodies and may answer with a
 * stream: zod-openapi's `app.openapi` would add its validators and type the
 * answers as JSON only. Routes with zod-validated queries use `app.openapi`.
 */
import type { RouteConfig } from "@hono/zod-openapi";
import type { Handler, MiddlewareHandler } from "hono";
import type { App, HonoEnv } from "../hono-env";

export function documentedRoute(
  app: App,
  route: RouteConfig,
  handlers: [MiddlewareHandler<HonoEnv>, Handler<HonoEnv>],
  /** A Hono path when the documented one cannot route (a parameter that may hold a slash). */
  routingPath = route.path.replaceAll(/\/{(.+?)}/g, "/:$1"),
): void {
  app.openAPIRegistry.registerPath(route);
  app.on(route.method.toUpperCase(), routingPath, ...handlers);
}
