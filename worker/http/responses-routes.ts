/**
 * @module responses-routes
 * The Responses API: `POST /v1/responses`, `GET /v1/responses/{id}` (with
 * `stream=true&starting_after=N` to resume), `POST /v1/responses/{id}/cancel`,
 * `DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`. The
 * request runs as chat completions (responses-service); only the account that
 * created a response can read it.
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import * as z from "zod";
import { InputItemsQuerySchema, ResponseCreateRequestSchema, ResponseObjectSchema, ResponseRetrieveQuerySchema } from "../../shared/openai-responses";
import { ApiError } from "../core/errors";
import { SSE_HEADERS } from "../core/sse-headers";
import { loadDeployment, resolveModel } from "../routing/catalogue";
import { createResponse } from "../responses/responses-service";
import { cancelResponse, deleteResponse, getResponse, listInputItems, streamResponse } from "../responses/stored-responses-service";
import { parseWith, readJson } from "./body-validation";
import type { App, HonoEnv } from "./hono-env";
import { documentedRoute } from "./openapi/documented-route";
import { authErrors, documentedJsonBody, errorDoc } from "./openapi/openapi-schemas";

const security = [{ ApiKey: [] }];
const tags = ["Responses"];
const params = z.object({ id: z.string().describe("The response's id (`resp_…`)") });
const notFound = { 404: errorDoc("No such response for this account (never stored, deleted, or expired).") };
const responseContent = { "application/json": { schema: ResponseObjectSchema } };
const events = { "text/event-stream": { schema: z.string().describe("`event:`/`data:` pairs, each with a `sequence_number`") } };

const create = createRoute({
  method: "post",
  path: "/v1/responses",
  tags,
  summary: "Create a response (OpenAI's Responses API, run as chat completions)",
  description:
    "LIMO's system prompt (unless `instructions` is set), sampling defaults and context clamp apply as on chat. Fields LIMO cannot serve (`tools`, `reasoning.summary`, image and file inputs, `text.format` json_schema) are a 400 naming them.",
  security,
  request: { body: documentedJsonBody("ResponseCreateRequest") },
  responses: {
    200: { description: "The response (or its events with `stream: true`; `queued`/`in_progress` at once with `background: true`)", content: { ...responseContent, ...events } },
    400: errorDoc("Invalid request, or a field LIMO cannot serve (`unsupported_parameter`); `param` names it."),
    ...authErrors,
    404: errorDoc("No such model, or no such `previous_response_id` for this account."),
    413: errorDoc("The body exceeds 1 MiB."),
    502: errorDoc("The model backend failed."),
    503: errorDoc("The model backend is unavailable; retry after `Retry-After`."),
  },
});

const get = createRoute({
  method: "get",
  path: "/v1/responses/{id}",
  tags,
  summary: "Retrieve a stored response (poll a background one), or resume its stream",
  security,
  request: { params, query: ResponseRetrieveQuerySchema },
  responses: {
    200: { description: "The response, or with `stream=true` its events after `starting_after`", content: { ...responseContent, ...events } },
    400: errorDoc("`starting_after` is not a sequence number."),
    ...authErrors,
    ...notFound,
  },
});

const cancel = createRoute({
  method: "post",
  path: "/v1/responses/{id}/cancel",
  tags,
  summary: "Cancel a response: its generation and GPU work stop",
  security,
  request: { params },
  responses: { 200: { description: "The response, cancelled (or as it ended)", content: responseContent }, ...authErrors, ...notFound },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/responses/{id}",
  tags,
  summary: "Delete a stored response",
  description:
    "Forgets the response: a follow-up can no longer continue from it. One still generating is cancelled first (its GPU work stops; what was produced is billed, as with cancel), and its generation's events are deleted with it.",
  security,
  request: { params },
  responses: {
    200: {
      description: "Deleted",
      content: { "application/json": { schema: z.object({ id: z.string(), object: z.literal("response"), deleted: z.literal(true) }) } },
    },
    ...authErrors,
    ...notFound,
  },
});

const inputItems = createRoute({
  method: "get",
  path: "/v1/responses/{id}/input_items",
  tags,
  summary: "List a stored response's input items",
  security,
  request: { params, query: InputItemsQuerySchema },
  responses: {
    200: {
      description: "This turn's input items, each with its id",
      content: { "application/json": { schema: z.object({ object: z.literal("list"), data: z.array(z.looseObject({ id: z.string() })), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() }) } },
    },
    ...authErrors,
    ...notFound,
  },
});

/** `Idempotency-Key`: printable ASCII, as on chat. */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

function idempotencyKey(c: Context<HonoEnv>): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new ApiError("invalid_value", "The Idempotency-Key header must be 1 to 255 printable ASCII characters.", { param: "Idempotency-Key" });
  }
  return key;
}

/**
 * @param generationGuard checks the key offline (the one admission call authorizes it), as chat's.
 * @param guard authorizes the key up front: reading, cancelling, deleting.
 */
export function registerResponsesRoutes(app: App, generationGuard: MiddlewareHandler<HonoEnv>, guard: MiddlewareHandler<HonoEnv>): void {
  app.openAPIRegistry.register("ResponseCreateRequest", ResponseCreateRequestSchema);

  documentedRoute(app, create, [
    generationGuard,
    async (c) => {
      const request = parseWith(ResponseCreateRequestSchema, await readJson(c));
      const deployment = loadDeployment(c.env.BACKENDS);
      return createResponse(c.env, {
        requestId: c.get("requestId"),
        credential: c.get("credential"),
        deployment,
        model: resolveModel(deployment, request.model),
        request,
        systemPrompt: c.env.LIMO_SYSTEM_PROMPT || undefined,
        cacheControl: c.req.header("cache-control"),
        idempotencyKey: idempotencyKey(c),
        admittedAt: Date.now(),
        clientSignal: c.req.raw.signal,
        waitUntil: (p) => c.executionCtx.waitUntil(p),
      });
    },
  ]);

  documentedRoute(app, get, [
    guard,
    async (c) => {
      const query = parseWith(ResponseRetrieveQuerySchema, c.req.query());
      const accountId = c.get("principal").accountId;
      const id = c.req.param("id")!;
      if (query.stream !== "true") return c.json(await getResponse(c.env, accountId, id));
      const startingAfter = query.starting_after === undefined ? -1 : Number(query.starting_after);
      const body = await streamResponse(c.env, accountId, id, startingAfter, (p) => c.executionCtx.waitUntil(p));
      return new Response(body, { headers: SSE_HEADERS });
    },
  ]);

  documentedRoute(app, cancel, [guard, async (c) => c.json(await cancelResponse(c.env, c.get("principal").accountId, c.req.param("id")!))]);

  documentedRoute(app, remove, [guard, async (c) => c.json(await deleteResponse(c.env, c.get("principal").accountId, c.req.param("id")!))]);

  documentedRoute(app, inputItems, [
    guard,
    async (c) => c.json(await listInputItems(c.env, c.get("principal").accountId, c.req.param("id")!, parseWith(InputItemsQuerySchema, c.req.query()))),
  ]);
}
