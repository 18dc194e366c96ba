/**
 * @module completions-routes
 * `POST /v1/chat/completions` and `POST /v1/completions`: parse, resolve the
 * model, apply LIMO's defaults, then the completion service (one admission
 * call to the account's object, then the generation). Everything that can be
 * refused without that call (bad input, unknown model, a prompt that cannot
 * fit) is refused first, so it costs nothing.
 */
import { createRoute } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import * as z from "zod";
import type { CatalogueModel } from "../../shared/constants";
import { ChatCompletionRequestSchema, CompletionRequestSchema, type ChatCompletionRequest } from "../../shared/openai";
import { canonicalJson, sha256Hex } from "../core/canonical-json";
import { ApiError } from "../core/errors";
import { createCompletion, type CompletionRequest } from "../generations/completion-service";
import { prepareChat, prepareCompletion, type PreparedRequest } from "../generations/prepare";
import { applyVote } from "../generations/voting";
import { loadDeployment, resolveModel, type Deployment } from "../routing/catalogue";
import { createTutorCompletion } from "../tutoring/tutor-service";
import { parseWith, readJson } from "./body-validation";
import type { App, HonoEnv } from "./hono-env";
import { documentedRoute } from "./openapi/documented-route";
import { authErrors, ChatCompletionSchema, CompletionSchema, documentedJsonBody, errorDoc } from "./openapi/openapi-schemas";

const security = [{ ApiKey: [] }];
const tags = ["OpenAI-compatible"];

/** Every way a generation request can fail, documented once for both endpoints. */
const generationErrors = {
  400: errorDoc("Invalid request; `param` names the offending field. Unknown fields are refused."),
  ...authErrors,
  404: errorDoc("No such model, or the key may not use it (`model_not_found`)."),
  413: errorDoc("The body exceeds 1 MiB."),
  502: errorDoc("The model backend failed."),
  503: errorDoc("The model backend is unavailable; retry after `Retry-After`."),
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

const chat = createRoute({
  method: "post",
  path: "/v1/chat/completions",
  tags,
  summary: "Create a chat completion",
  description: "LIMO's system prompt and sampling defaults apply when the request sets none. A body without a JSON content type is accepted.",
  security,
  request: { body: documentedJsonBody("ChatCompletionRequest") },
  responses: generationResponses(ChatCompletionSchema, "The completion (or its event stream)"),
});

const completion = createRoute({
  method: "post",
  path: "/v1/completions",
  tags,
  summary: "Create a text completion",
  security,
  request: { body: documentedJsonBody("CompletionRequest") },
  responses: generationResponses(CompletionSchema, "The completion (or its event stream)"),
});

export function registerCompletionsRoutes(app: App, guard: MiddlewareHandler<HonoEnv>): void {
  app.openAPIRegistry.register("ChatCompletionRequest", ChatCompletionRequestSchema);
  app.openAPIRegistry.register("CompletionRequest", CompletionRequestSchema);

  documentedRoute(app, chat, [
    guard,
    async (c) => {
      const request = applyVote(parseWith(ChatCompletionRequestSchema, await readJson(c)));
      checkStreamOptions(request);
      if (request.top_logprobs != null && !request.logprobs) {
        throw new ApiError("invalid_value", "'top_logprobs' requires 'logprobs' to be true.", { param: "top_logprobs" });
      }
      const deployment = loadDeployment(c.env.BACKENDS);
      const model = resolveModel(deployment, request.model);
      if (request.tutor) return tutor(c, deployment, model, request);
      return run(c, deployment, prepareChat(request, model, c.env.LIMO_SYSTEM_PROMPT || undefined), request);
    },
  ]);

  documentedRoute(app, completion, [
    guard,
    async (c) => {
      const request = applyVote(parseWith(CompletionRequestSchema, await readJson(c)));
      checkStreamOptions(request);
      const deployment = loadDeployment(c.env.BACKENDS);
      return run(c, deployment, prepareCompletion(request, resolveModel(deployment, request.model)), request);
    },
  ]);
}

/** OpenAI refuses `stream_options` on a non-streaming request. */
function checkStreamOptions(request: { stream?: boolean | null; stream_options?: unknown }): void {
  if (request.stream_options != null && request.stream !== true) {
    throw new ApiError("invalid_value", "The 'stream_options' parameter is only allowed when 'stream' is enabled.", {
      param: "stream_options",
    });
  }
}

/** `Idempotency-Key`: printable ASCII, as Stripe and OpenAI accept it. */
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key and a fingerprint of what it was sent with (endpoint and body, canonically). */
async function idempotencyOf(c: Context<HonoEnv>, request: unknown): Promise<{ key: string; fingerprint: string } | undefined> {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new ApiError("invalid_value", "The Idempotency-Key header must be 1 to 255 printable ASCII characters.", {
      param: "Idempotency-Key",
    });
  }
  return { key, fingerprint: await sha256Hex(canonicalJson({ path: c.req.path, request })) };
}

/** A tutor mode (worker/tutoring): its generations are its own, so an Idempotency-Key could not replay its answer. */
async function tutor(c: Context<HonoEnv>, deployment: Deployment, model: CatalogueModel, request: ChatCompletionRequest): Promise<Response> {
  if (c.req.header("idempotency-key") !== undefined) {
    throw new ApiError("invalid_value", "Idempotency-Key cannot be used with 'tutor'.", { param: "Idempotency-Key" });
  }
  return createTutorCompletion(c.env, {
    requestId: c.get("requestId"),
    credential: c.get("credential"),
    deployment,
    model,
    request,
    systemPrompt: c.env.LIMO_SYSTEM_PROMPT || undefined,
    cacheControl: c.req.header("cache-control"),
    admittedAt: Date.now(),
    clientSignal: c.req.raw.signal,
    waitUntil: (p) => c.executionCtx.waitUntil(p),
  });
}

async function run(c: Context<HonoEnv>, deployment: Deployment, prepared: PreparedRequest, request: CompletionRequest): Promise<Response> {
  const admittedAt = Date.now();
  const idempotency = await idempotencyOf(c, request);
  return createCompletion(c.env, {
    requestId: c.get("requestId"),
    credential: c.get("credential"),
    deployment,
    prepared,
    request,
    cacheControl: c.req.header("cache-control"),
    idempotency,
    admittedAt,
    clientSignal: c.req.raw.signal,
    waitUntil: (p) => c.executionCtx.waitUntil(p),
  });
}
