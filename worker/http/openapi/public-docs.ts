/**
 * @module openapi-public
 * Documents the public, OpenAI-compatible routes. They are registered for the
 * document only: their handlers (routes/generation-routes, model-routes) parse
 * bodies themselves, so zod-openapi's validator never changes their behaviour.
 */
import { z } from "zod";
import { ChatCompletionRequestSchema, CompletionRequestSchema } from "../../../shared/openai";
import type { App } from "../../env";
import { ChatCompletionSchema, CompletionSchema, documentedJsonBody, errorResponse, ModelListSchema, ModelSchema } from "./openapi-schemas";

const security = [{ ApiKey: [] }];
const tags = ["OpenAI-compatible"];

const authErrors = {
  401: errorResponse("Missing, malformed, unknown, revoked or expired API key."),
  403: errorResponse("The account is suspended (`account_suspended`) or the browser origin is not allowed (`origin_not_allowed`)."),
  404: errorResponse("No such model, or the key may not use it (`model_not_found`)."),
};

const generationErrors = {
  400: errorResponse("Invalid request; `param` names the offending field. Unknown fields are refused."),
  ...authErrors,
  413: errorResponse("The body exceeds 1 MiB."),
  502: errorResponse("The model backend failed."),
  503: errorResponse("The model backend is unavailable; retry after `Retry-After`."),
};

function generationResponses(schema: z.ZodType, description: string) {
  return {
    200: {
      description,
      content: {
        "application/json": { schema },
        "text/event-stream": { schema: z.string().describe("With `stream: true`: `data: {chunk}` events, then `data: [DONE]`") },
      },
    },
    ...generationErrors,
  };
}

export function registerPublicDocs(app: App): void {
  const registry = app.openAPIRegistry;
  registry.register("ChatCompletionRequest", ChatCompletionRequestSchema);
  registry.register("CompletionRequest", CompletionRequestSchema);

  registry.registerPath({
    method: "post",
    path: "/v1/chat/completions",
    tags,
    summary: "Create a chat completion",
    description: "LIMO's system prompt and sampling defaults apply when the request sets none. A body without a JSON content type is accepted.",
    security,
    request: { body: documentedJsonBody("ChatCompletionRequest") },
    responses: generationResponses(ChatCompletionSchema, "The completion (or its event stream)"),
  });

  registry.registerPath({
    method: "post",
    path: "/v1/completions",
    tags,
    summary: "Create a text completion",
    security,
    request: { body: documentedJsonBody("CompletionRequest") },
    responses: generationResponses(CompletionSchema, "The completion (or its event stream)"),
  });

  registry.registerPath({
    method: "get",
    path: "/v1/models",
    tags,
    summary: "List the models this key may use",
    security,
    responses: { 200: { description: "The models", content: { "application/json": { schema: ModelListSchema } } }, 401: authErrors[401], 403: authErrors[403] },
  });

  registry.registerPath({
    method: "get",
    path: "/v1/models/{id}",
    tags,
    summary: "Retrieve a model by id or served name",
    security,
    request: { params: z.object({ id: z.string().describe("`limo`, `limo-v2`, or a served name such as `GAIR/LIMO`") }) },
    responses: { 200: { description: "The model", content: { "application/json": { schema: ModelSchema } } }, ...authErrors },
  });

  registry.registerPath({
    method: "get",
    path: "/healthz",
    tags: ["Operations"],
    summary: "Liveness, and a check of the backend configuration (no key needed)",
    responses: {
      200: { description: "Healthy", content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } } },
      500: errorResponse("The deployment is misconfigured."),
    },
  });
}
