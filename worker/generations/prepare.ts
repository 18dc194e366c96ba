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
import type { UsageEndpoint } from "../../shared/usage";
import { backendFields, CHAT_FIELDS, COMPLETION_FIELDS, fieldRefusal } from "./openai-fields";

export type Endpoint = "chat" | "completion";

/** Everything later stages need to know about one generation request. */
export interface PreparedRequest {
  endpoint: Endpoint;
  /** The endpoint the client called, as its ledger record names it (the Responses API runs as chat: `responses`). */
  ledgerEndpoint: UsageEndpoint;
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

/** The fields the field table serves: copied to the backend as they are; every other field is the Worker's. */
const CHAT_BACKEND_FIELDS = backendFields(CHAT_FIELDS);
const COMPLETION_BACKEND_FIELDS = backendFields(COMPLETION_FIELDS);

/** A message as the backend gets it: a role vLLM's chat template knows, text content, the name. */
interface BackendMessage {
  role: "system" | "user" | "assistant";
  content: string | { type: "text"; text: string }[];
  name?: string;
}

/**
 * The message without what the backend should not see: `developer` becomes
 * `system`; output-only fields (refusal, annotations, parsed, reasoning) and
 * cache breakpoints are dropped. Text parts stay parts (vLLM joins them as
 * it always has). Refused shapes were refused before (openai-fields.ts).
 */
function backendMessage(m: ChatMessage, index: number): BackendMessage {
  if (m.role === "tool" || m.role === "function") throw new Error("tool messages are refused before prepare");
  if (m.content === null || m.content === undefined) {
    throw new ApiError("invalid_value", `Invalid value for 'messages[${index}].content': an assistant message without tool calls needs content.`, {
      param: `messages[${index}].content`,
    });
  }
  const content =
    typeof m.content === "string"
      ? m.content
      : m.content.flatMap((p) => (p.type === "text" ? [{ type: "text" as const, text: p.text }] : []));
  const role = m.role === "developer" ? "system" : m.role;
  return m.name ? { role, content, name: m.name } : { role, content };
}

function textOf(content: BackendMessage["content"]): string {
  return typeof content === "string" ? content : content.map((p) => p.text).join("");
}

/** Copies the served fields the client set (nulls mean unset) and fills LIMO's defaults. */
function samplingBody(request: ChatCompletionRequest | CompletionRequest, served: ReadonlySet<string>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) {
    if (value !== null && value !== undefined && served.has(key)) body[key] = value;
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
  const refused = fieldRefusal(CHAT_FIELDS, request);
  if (refused) throw refused;
  const given = request.messages.map(backendMessage);
  const messages: BackendMessage[] = given.some((m) => m.role === "system") ? given : [{ role: "system", content: systemPrompt }, ...given];
  const promptTokensEstimate = estimateChatTokens(messages.map((m) => ({ content: textOf(m.content) })));
  const requested = request.max_completion_tokens ?? request.max_tokens;
  const maxTokens = fitMaxTokens(requested, promptTokensEstimate);
  return finish("chat", "/v1/chat/completions", request, model, promptTokensEstimate, maxTokens, !requested, { messages }, CHAT_BACKEND_FIELDS);
}

export function prepareCompletion(request: CompletionRequest, model: CatalogueModel): PreparedRequest {
  const refused = fieldRefusal(COMPLETION_FIELDS, request);
  if (refused) throw refused;
  // One text prompt: the field table refused batches and token ids.
  const prompt = typeof request.prompt === "string" ? request.prompt : String(request.prompt[0]);
  const promptTokensEstimate = estimateTextTokens(prompt);
  const maxTokens = fitMaxTokens(request.max_tokens, promptTokensEstimate);
  return finish("completion", "/v1/completions", request, model, promptTokensEstimate, maxTokens, !request.max_tokens, { prompt }, COMPLETION_BACKEND_FIELDS);
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
  served: ReadonlySet<string>,
): PreparedRequest {
  return {
    endpoint,
    ledgerEndpoint: endpoint === "chat" ? "chat.completions" : "completions",
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
      ...samplingBody(request, served),
      max_tokens: maxTokens,
      stream: true,
      // The usage chunk bills a whole answer; the running count on every chunk bills a partial one (streams/token-counter).
      stream_options: { include_usage: true, continuous_usage_stats: true },
    },
  };
}

/** The request with the completion budget admission granted (never more than asked). */
export function withMaxTokens(prepared: PreparedRequest, maxTokens: number): PreparedRequest {
  if (maxTokens === prepared.maxTokens) return prepared;
  return { ...prepared, maxTokens, backendBody: { ...prepared.backendBody, max_tokens: maxTokens } };
}
