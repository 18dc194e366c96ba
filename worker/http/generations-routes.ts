/**
 * @module generations-routes
 * `GET /v1/generations/{id}` (status, and the answer once completed),
 * `GET /v1/generations/{id}/stream` (from the start, or after `Last-Event-ID`)
 * and `POST /v1/generations/{id}/cancel`. Only the account that asked for a
 * generation sees it: to anyone else it does not exist (404, as an unknown id).
 */
import type { MiddlewareHandler } from "hono";
import type { App, HonoEnv } from "../env";
import { ApiError } from "../core/errors";
import { generationObject, parseGenerationId } from "../generations/generation-do";
import { SSE_HEADERS } from "../generations/direct-generation-service";
import { graceMs } from "../generations/durable-generation-service";

function notFound(id: string): ApiError {
  return new ApiError("not_found", `No generation with id '${id}' (it may have expired).`, { param: "id" });
}

function target(id: string): { name: string; run: number } {
  const parsed = parseGenerationId(id);
  if (!parsed) throw notFound(id);
  return parsed;
}

/** `Last-Event-ID`: the id of the last event the client has (0 or absent: none). */
function lastEventId(header: string | undefined): number {
  if (header === undefined || header.trim() === "") return 0;
  if (!/^\d{1,9}$/.test(header.trim())) {
    throw new ApiError("invalid_value", "The Last-Event-ID header must be an event id from this stream.", { param: "Last-Event-ID" });
  }
  return Number(header.trim());
}

export function registerGenerationsRoutes(app: App, guard: MiddlewareHandler<HonoEnv>): void {
  app.get("/v1/generations/:id", guard, async (c) => {
    const id = c.req.param("id");
    const { name, run } = target(id);
    const generation = await generationObject(c.env, name).describe(c.get("principal").accountId, name, run);
    if (!generation) throw notFound(id);
    return c.json(generation);
  });

  app.get("/v1/generations/:id/stream", guard, async (c) => {
    const id = c.req.param("id");
    const { name, run } = target(id);
    const from = lastEventId(c.req.header("last-event-id"));
    const stream = await generationObject(c.env, name).stream(c.get("principal").accountId, name, run, from, graceMs(c.env));
    if (!stream) throw notFound(id);
    return new Response(stream, { headers: { ...SSE_HEADERS, "x-generation-id": id } });
  });

  app.post("/v1/generations/:id/cancel", guard, async (c) => {
    const id = c.req.param("id");
    const { name, run } = target(id);
    const generation = await generationObject(c.env, name).cancel(c.get("principal").accountId, name, run);
    if (!generation) throw notFound(id);
    return c.json(generation);
  });
}
