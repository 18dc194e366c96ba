/**
 * @module generation-routes
 * `POST /v1/chat/completions` and `POST /v1/completions`: parse, resolve the
 * model, apply LIMO's defaults, then one call to the account's object that
 * authorizes the key and admits the request against its limits, then generate.
 * Everything that can be refused without it (bad input, unknown model, a
 * prompt that cannot fit) is refused first, so it costs nothing.
 */
import type { Context, MiddlewareHandler } from "hono";
import { ChatCompletionRequestSchema, CompletionRequestSchema } from "../../shared/openai";
import type { App, HonoEnv } from "../env";
import { ApiError } from "../core/errors";
import { admitGeneration } from "../accounts/limits/admission-service";
import { loadDeployment, resolveModel, type Deployment } from "../routing/catalogue";
import { generate } from "../generations/direct-generation-service";
import { durablePlan, runDurableGeneration } from "../generations/durable-generation-service";
import { Meter } from "../accounts/ledger/metering";
import { canonicalJson, sha256Hex } from "../core/canonical-json";
import { replayResponse } from "../generations/replay";
import { prepareChat, prepareCompletion, withMaxTokens, type PreparedRequest } from "../generations/prepare";
import { parseWith, readJson } from "./body-validation";

export function registerGenerationRoutes(app: App, guard: MiddlewareHandler<HonoEnv>): void {
  app.post("/v1/chat/completions", guard, async (c) => {
    const request = parseWith(ChatCompletionRequestSchema, await readJson(c));
    checkStreamOptions(request);
    if (request.top_logprobs != null && !request.logprobs) {
      throw new ApiError("invalid_value", "'top_logprobs' requires 'logprobs' to be true.", { param: "top_logprobs" });
    }
    const deployment = loadDeployment(c.env.BACKENDS);
    const model = resolveModel(deployment, request.model);
    return run(c, deployment, prepareChat(request, model, c.env.LIMO_SYSTEM_PROMPT || undefined), request);
  });

  app.post("/v1/completions", guard, async (c) => {
    const request = parseWith(CompletionRequestSchema, await readJson(c));
    checkStreamOptions(request);
    const deployment = loadDeployment(c.env.BACKENDS);
    return run(c, deployment, prepareCompletion(request, resolveModel(deployment, request.model)), request);
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

type GenerationRequest = Parameters<typeof durablePlan>[1];

async function run(c: Context<HonoEnv>, deployment: Deployment, prepared: PreparedRequest, request: GenerationRequest): Promise<Response> {
  const requestId = c.get("requestId");
  const admittedAt = Date.now();
  const idempotency = await idempotencyOf(c, request);
  const admission = await admitGeneration(c.env, c.get("credential"), {
    idempotency,
    requestId,
    model: prepared.model.id,
    promptTokens: prepared.promptTokensEstimate,
    n: prepared.n,
    maxTokens: prepared.maxTokens,
    maxTokensFlexible: prepared.maxTokensFlexible,
    now: admittedAt,
  });
  if (admission.kind === "replay") {
    return replayResponse(admission.body, prepared, { "idempotent-replayed": "true", "x-cache": "HIT" });
  }
  c.set("principal", admission.principal);
  const granted = withMaxTokens(prepared, admission.maxTokens);
  // Streamed, cacheable and background requests are owned by a generation object (services/generations).
  const plan = durablePlan(granted, request, c.req.header("cache-control"), c.env);
  if (plan) {
    return runDurableGeneration(c.env, {
      plan,
      prepared: granted,
      principal: admission.principal,
      requestId,
      clientSignal: c.req.raw.signal,
      headers: admission.headers,
      idempotencyKey: idempotency?.key,
      admittedAt,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
    });
  }
  const meter = new Meter({
    env: c.env,
    waitUntil: (p) => c.executionCtx.waitUntil(p),
    principal: admission.principal,
    requestId,
    model: prepared.model.id,
    promptTokensEstimate: prepared.promptTokensEstimate,
    streaming: prepared.stream,
    idempotencyKey: idempotency?.key,
  });
  return generate(granted, {
    env: c.env,
    requestId,
    deployment,
    mode: admission.principal.mode,
    waitUntil: (p) => c.executionCtx.waitUntil(p),
    clientSignal: c.req.raw.signal,
    meter,
    headers: { ...admission.headers, "x-cache": "MISS" },
  });
}
