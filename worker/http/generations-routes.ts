/**
 * @module generations-routes
 * `GET /v1/generations/{id}` (status, and the answer once completed),
 * `GET /v1/generations/{id}/stream` (from the start, or after `Last-Event-ID`)
 * and `POST /v1/generations/{id}/cancel`. Only the account that asked for a
 * generation sees it: to anyone else it does not exist (404, as an unknown id).
 */
import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import * as z from "zod";
import { GenerationObjectSchema } from "../../shared/generations";
import { SSE_HEADERS } from "../core/sse-headers";
import { cancelGeneration, getGeneration, streamGeneration } from "../generations/durable-generation-service";
import type { App, HonoEnv } from "./hono-env";
import { documentedRoute } from "./openapi/documented-route";
import { authErrors, errorDoc } from "./openapi/openapi-schemas";

const security = [{ ApiKey: [] }];
const tags = ["Generations"];
const params = z.object({ id: z.string().describe("The `x-generation-id` of a streamed, cached or background answer (`gen_…`)") });
const notFound = { 404: errorDoc("No such generation for this account (or it expired).") };
const generation = { "application/json": { schema: GenerationObjectSchema } };

const get = createRoute({
  method: "get",
  path: "/v1/generations/{id}",
  tags,
  summary: "Retrieve a generation: its status, and the completion once completed",
  security,
  request: { params },
  responses: { 200: { description: "The generation", content: generation }, ...authErrors, ...notFound },
});

const stream = createRoute({
  method: "get",
  path: "/v1/generations/{id}/stream",
  tags,
  summary: "Stream a generation's events: from the start, or after `Last-Event-ID`",
  description: "Nothing is generated again: a client that lost its connection resumes where it was. A cancelled generation ends with an `error` event whose code is `generation_cancelled`.",
  security,
  request: {
    params,
    headers: z.object({ "last-event-id": z.string().optional().describe("The `id:` of the last event the client has (0 or absent: from the start)") }),
  },
  responses: {
    200: { description: "The events, each with an `id:`", content: { "text/event-stream": { schema: z.string() } } },
    400: errorDoc("`Last-Event-ID` is not an event id."),
    ...authErrors,
    ...notFound,
  },
});

const cancel = createRoute({
  method: "post",
  path: "/v1/generations/{id}/cancel",
  tags,
  summary: "Cancel a generation and its GPU work",
  security,
  request: { params },
  responses: { 200: { description: "The generation, cancelled (or as it ended)", content: generation }, ...authErrors, ...notFound },
});

export function registerGenerationsRoutes(app: App, guard: MiddlewareHandler<HonoEnv>): void {
  documentedRoute(app, get, [guard, async (c) => c.json(await getGeneration(c.env, c.get("principal").accountId, c.req.param("id")!))]);

  documentedRoute(app, stream, [
    guard,
    async (c) => {
      const id = c.req.param("id")!;
      const events = await streamGeneration(c.env, c.get("principal").accountId, id, c.req.header("last-event-id"));
      return new Response(events, { headers: { ...SSE_HEADERS, "x-generation-id": id } });
    },
  ]);

  documentedRoute(app, cancel, [guard, async (c) => c.json(await cancelGeneration(c.env, c.get("principal").accountId, c.req.param("id")!))]);
}
