/**
 * @module generation-routes
 * `POST /v1/chat/completions` and `POST /v1/completions`: parse, resolve the
 * model, apply LIMO's defaults, generate.
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { ChatCompletionRequestSchema, CompletionRequestSchema } from "../../shared/openai";
import type { HonoEnv } from "../env";
import { ApiError } from "../errors";
import { assertModelAllowed } from "../services/auth";
import { loadDeployment, resolveModel } from "../services/catalogue";
import { generate } from "../services/generate";
import { prepareChat, prepareCompletion, type PreparedRequest } from "../services/prepare";
import { parseWith, readJson } from "../validation";

export function registerGenerationRoutes(app: Hono<HonoEnv>, guard: MiddlewareHandler<HonoEnv>): void {
  app.post("/v1/chat/completions", guard, async (c) => {
    const request = parseWith(ChatCompletionRequestSchema, await readJson(c));
    checkStreamOptions(request);
    if (request.top_logprobs != null && !request.logprobs) {
      throw new ApiError("invalid_value", "'top_logprobs' requires 'logprobs' to be true.", { param: "top_logprobs" });
    }
    const resolved = resolveModel(loadDeployment(c.env.BACKENDS), request.model);
    assertModelAllowed(c.get("principal"), resolved.model.id, request.model);
    return run(c, prepareChat(request, resolved, c.env.LIMO_SYSTEM_PROMPT || undefined));
  });

  app.post("/v1/completions", guard, async (c) => {
    const request = parseWith(CompletionRequestSchema, await readJson(c));
    checkStreamOptions(request);
    const resolved = resolveModel(loadDeployment(c.env.BACKENDS), request.model);
    assertModelAllowed(c.get("principal"), resolved.model.id, request.model);
    return run(c, prepareCompletion(request, resolved));
  });
}

/** OpenAI refuses `stream_options` on a non-streaming request. */
function checkStreamOptions(request: { stream?: boolean | null; stream_options?: unknown }): void {
  if (request.stream_options != null && request.stream !== true) {
    throw new ApiError("invalid_value", "The 'stream_options' parameter is only allowed when 'stream' is enabled.", {
      param: "stream_options",
    });
  }
}

function run(c: Context<HonoEnv>, prepared: PreparedRequest): Promise<Response> {
  return generate(prepared, { env: c.env, requestId: c.get("requestId"), clientSignal: c.req.raw.signal });
}
