/**
 * @module prepare
 * Turns a validated client request into the backend request, applying LIMO's
 * defaults at the edge: its system prompt, its recommended sampling, and a
 * `max_tokens` that fits the context window after a conservative estimate.
 */
import {
  DEFAULT_TEMPERATURE,
  DEFAULT_TOP_P,
  LIMO_SYSTEM_PROMPT,
  MAX_MODEL_LEN_TOKENS,
} from "../../shared/constants";
import type { ChatCompletionRequest, ChatMessage, CompletionRequest } from "../../shared/openai";
import { estimateChatTokens, estimateTextTokens } from "../../shared/tokens";
import { ApiError } from "../core/errors";
import type { CatalogueModel } from "../../shared/constants";

export type Endpoint = "chat" | "completion";

/** Everything later stages need to know about one generation request. */
export interface PreparedRequest {
  endpoint: Endpoint;
  /** The backend path, e.g. `/v1/chat/completions`. */
  path: string;
  model: CatalogueModel;
  /** The client wants SSE (the backend always streams). */
  stream: boolean;
  /** The client asked for the usage chunk. */
  includeUsage: boolean;
  n: number;
  /** Completion tokens per choice (the backend body's `max_tokens`). */
  maxTokens: number;
  /** The client set no max_tokens: admission may lower it to fit the account's limits. */
  maxTokensFlexible: boolean;
  promptTokensEstimate: number;
  /** JSON body for the backend: always `stream: true` with usage. */
  backendBody: Record<string, unknown>;
}

/** Fields handled here rather than copied to the backend as they are. */
const EDGE_FIELDS = new Set([
  "model", "stream", "stream_options", "max_tokens", "max_completion_tokens", "messages", "prompt",
  // Durable generations' options (shared/generations.ts): ours, not the backend's.
  "background", "cache",
  // Majority voting (shared/answers.ts): done by the Worker over the choices.
  "vote",
]);

function textOf(content: ChatMessage["content"]): string {
  return typeof content === "string" ? content : content.map((p) => p.text).join("");
}

/** Copies the sampling fields the client set (nulls mean unset) and fills LIMO's defaults. */
function samplingBody(request: ChatCompletionRequest | CompletionRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) {
    if (value !== null && value !== undefined && !EDGE_FIELDS.has(key)) body[key] = value;
  }
  body.temperature ??= DEFAULT_TEMPERATURE;
  body.top_p ??= DEFAULT_TOP_P;
  return body;
}

/** The completion budget: the request's, clamped to what the context leaves. */
function fitMaxTokens(requested: number | null | undefined, promptTokens: number): number {
  const room = MAX_MODEL_LEN_TOKENS - promptTokens;
  if (room < 1) {
    throw new ApiError(
      "context_length_exceeded",
      `This model's maximum context length is ${MAX_MODEL_LEN_TOKENS} tokens. ` +
        `However, your prompt is estimated at ${promptTokens} tokens, which leaves no room for a completion. ` +
        "Please reduce the length of the prompt.",
      { param: "messages" },
    );
  }
  return requested ? Math.min(requested, room) : room;
}

export function prepareChat(
  request: ChatCompletionRequest,
  model: CatalogueModel,
  systemPrompt: string = LIMO_SYSTEM_PROMPT,
): PreparedRequest {
  const messages = request.messages.some((m) => m.role === "system")
    ? request.messages
    : [{ role: "system" as const, content: systemPrompt }, ...request.messages];
  const promptTokensEstimate = estimateChatTokens(messages.map((m) => ({ content: textOf(m.content) })));
  const requested = request.max_completion_tokens ?? request.max_tokens;
  const maxTokens = fitMaxTokens(requested, promptTokensEstimate);
  return finish("chat", "/v1/chat/completions", request, model, promptTokensEstimate, maxTokens, !requested, { messages });
}

export function prepareCompletion(request: CompletionRequest, model: CatalogueModel): PreparedRequest {
  const prompt = typeof request.prompt === "string" ? request.prompt : request.prompt[0]!;
  const promptTokensEstimate = estimateTextTokens(prompt);
  const maxTokens = fitMaxTokens(request.max_tokens, promptTokensEstimate);
  return finish("completion", "/v1/completions", request, model, promptTokensEstimate, maxTokens, !request.max_tokens, { prompt });
}

function finish(
  endpoint: Endpoint,
  path: string,
  request: ChatCompletionRequest | CompletionRequest,
  model: CatalogueModel,
  promptTokensEstimate: number,
  maxTokens: number,
  maxTokensFlexible: boolean,
  input: Record<string, unknown>,
): PreparedRequest {
  return {
    endpoint,
    path,
    model,
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    n: request.n ?? 1,
    maxTokens,
    maxTokensFlexible,
    promptTokensEstimate,
    backendBody: {
      model: model.servedName,
      ...input,
      ...samplingBody(request),
      max_tokens: maxTokens,
      stream: true,
      stream_options: { include_usage: true },
    },
  };
}

/** The request with the completion budget admission granted (never more than asked). */
export function withMaxTokens(prepared: PreparedRequest, maxTokens: number): PreparedRequest {
  if (maxTokens === prepared.maxTokens) return prepared;
  return { ...prepared, maxTokens, backendBody: { ...prepared.backendBody, max_tokens: maxTokens } };
}
