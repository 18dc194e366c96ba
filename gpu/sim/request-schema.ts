/**
 * @module request-schema
 * Reads chat and completions bodies the way vLLM's OpenAI server does
 * (ChatCompletionRequest in vllm/entrypoints/openai/chat_completion/protocol.py,
 * CompletionRequest in .../completion/protocol.py): unknown fields are
 * ignored (vLLM only logs them), wrong types and values are a 400. The result
 * is one normalised `GenerationRequest`. Deliberately looser than the
 * Worker's schemas in shared/openai.ts: the simulator plays vLLM, not our API.
 */
import * as z from "zod";
import { DEFAULT_TEMPERATURE, MAX_CHOICES_N } from "../../shared/constants";
import { ResponseFormatField, resolveStructured, StructuredOutputError, StructuredOutputsField, type StructuredRequest } from "./structured";
import { countChatTokens, countTextTokens } from "./tokenizer";
import { validationFailure, valueError, type RequestFailure } from "./validation-errors";

const int = () => z.number().int();

/** CompletionRequest.max_tokens: `int | None = 16`, and null is read as 16 too (normalize_null_max_tokens). */
const COMPLETION_DEFAULT_MAX_TOKENS = 16;

const sampling = {
  model: z.string().min(1).nullish(),
  max_tokens: int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: int().min(-1).nullish(),
  n: int().min(1).max(MAX_CHOICES_N).nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  seed: int().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish(), continuous_usage_stats: z.boolean().nullish() }).nullish(),
  // vLLM extensions a benchmark may use to force long generations.
  ignore_eos: z.boolean().nullish(),
  min_tokens: int().min(0).nullish(),
  include_stop_str_in_output: z.boolean().nullish(),
  response_format: ResponseFormatField.nullish(),
  structured_outputs: StructuredOutputsField.nullish(),
};

const TextPart = z.object({ type: z.literal("text"), text: z.string() });

const ChatBody = z.object({
  ...sampling,
  messages: z
    .array(z.object({ role: z.string().min(1), content: z.union([z.string(), z.array(TextPart), z.null()]).optional() }))
    .min(1),
  max_completion_tokens: int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: int().min(0).max(20).nullish(),
});

const CompletionBody = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).length(1)]),
  logprobs: int().min(0).max(5).nullish(),
});

/** What the engine needs from either endpoint. */
export interface GenerationRequest {
  kind: "chat" | "completion";
  /** Requested model, or undefined for "the first served model" (as vLLM). */
  model: string | undefined;
  /** Everything the model would read, used to seed the answer. */
  promptText: string;
  /** The last user turn (or the prompt), quoted back in the answer. */
  question: string;
  /** System and developer messages, which can ask for a tutoring hint (see tutor.ts). */
  instructions: string;
  promptTokens: number;
  /** null: up to the end of the context window. */
  maxTokens: number | null;
  /** Which field `maxTokens` came from, for vLLM's error messages. */
  maxTokensParam: "max_tokens" | "max_completion_tokens";
  n: number;
  stop: string[];
  includeStopStr: boolean;
  seed: number | null;
  temperature: number;
  stream: boolean;
  includeUsage: boolean;
  /** `stream_options.continuous_usage_stats`, which counts only with `include_usage` (vLLM's `should_include_usage`). */
  continuousUsage: boolean;
  /** Alternatives per token when logprobs were asked for, else null. */
  logprobs: number | null;
  /** Tokens to generate before an end of sequence is allowed. */
  minTokens: number;
  ignoreEos: boolean;
  /** response_format / structured_outputs, or null for free text. */
  structured: StructuredRequest | null;
}

export type ParseResult = { ok: true; request: GenerationRequest } | ({ ok: false } & RequestFailure);

/** Parses a /v1/chat/completions body. */
export function parseChatRequest(body: unknown): ParseResult {
  const early = beforeValidators(body, "chat");
  if (early) return { ok: false, ...early };
  const parsed = ChatBody.safeParse(body);
  if (!parsed.success) return { ok: false, ...validationFailure(parsed.error.issues, body) };
  const b = parsed.data;
  const common = commonFields(b, "chat");
  if (!common.ok) return common;
  const contents = b.messages.map((m) => messageText(m.content));
  const lastUser = b.messages.findLast((m) => m.role === "user");
  const instructions = b.messages.filter((m) => m.role === "system" || m.role === "developer").map((m) => messageText(m.content));
  return {
    ok: true,
    request: {
      ...common.fields,
      kind: "chat",
      promptText: b.messages.map((m, i) => `${m.role}\n${contents[i]}`).join("\n"),
      question: lastUser ? messageText(lastUser.content) : (contents.at(-1) ?? ""),
      instructions: instructions.join("\n"),
      promptTokens: countChatTokens(contents),
      // vLLM: `max_completion_tokens if not None else max_tokens`, and its errors name the field used.
      maxTokens: b.max_completion_tokens ?? b.max_tokens ?? null,
      maxTokensParam: b.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens",
      logprobs: b.logprobs === true ? (b.top_logprobs ?? 0) : null,
    },
  };
}

/** Parses a /v1/completions body. */
export function parseCompletionRequest(body: unknown): ParseResult {
  const early = beforeValidators(body, "completion");
  if (early) return { ok: false, ...early };
  const parsed = CompletionBody.safeParse(body);
  if (!parsed.success) return { ok: false, ...validationFailure(parsed.error.issues, body) };
  const b = parsed.data;
  const common = commonFields(b, "completion");
  if (!common.ok) return common;
  const prompt = typeof b.prompt === "string" ? b.prompt : (b.prompt[0] ?? "");
  return {
    ok: true,
    request: {
      ...common.fields,
      kind: "completion",
      promptText: prompt,
      question: prompt,
      instructions: "",
      promptTokens: countTextTokens(prompt),
      maxTokens: b.max_tokens ?? COMPLETION_DEFAULT_MAX_TOKENS,
      maxTokensParam: "max_tokens",
      logprobs: b.logprobs ?? null,
    },
  };
}

/**
 * The `model_validator(mode="before")` checks that vLLM runs on the raw body
 * before field validation; their VLLMValidationError reaches the client
 * through FastAPI's validation handler.
 */
function beforeValidators(body: unknown, kind: "chat" | "completion"): RequestFailure | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const data = body as Record<string, unknown>;
  const rf = data.response_format as { type?: unknown; json_schema?: unknown } | null | undefined;
  if (rf && typeof rf === "object" && rf.type === "json_schema" && rf.json_schema == null) {
    return valueError("When response_format type is 'json_schema', the 'json_schema' field must be provided.", "response_format", body);
  }
  if (data.stream_options && !data.stream) {
    return valueError("Stream options can only be defined when `stream=True`.", "stream_options", body);
  }
  const so = data.structured_outputs as Record<string, unknown> | null | undefined;
  if (so && typeof so === "object" && ["json", "regex", "choice"].filter((k) => so[k] != null).length > 1) {
    // The chat validator names no parameter; the completions one names the field.
    const param = kind === "completion" ? "structured_outputs" : null;
    return valueError("You can only use one kind of constraints for structured outputs ('json', 'regex' or 'choice').", param, body);
  }
  if (kind === "chat") {
    const top = data.top_logprobs;
    if (typeof top === "number" && (top === -1 || top > 0) && !data.logprobs) {
      return valueError("when using `top_logprobs`, `logprobs` must be set to true.", "top_logprobs", body);
    }
  } else if (data.prompt == null || data.prompt === "") {
    return valueError("Either prompt or prompt_embeds must be provided and non-empty.", "prompt", body);
  }
  return null;
}

type Common = Pick<
  GenerationRequest,
  "model" | "n" | "stop" | "includeStopStr" | "seed" | "temperature" | "stream" | "includeUsage" | "continuousUsage" | "minTokens" | "ignoreEos" | "structured"
>;

function commonFields(
  b: z.infer<typeof ChatBody> | z.infer<typeof CompletionBody>,
  kind: "chat" | "completion",
): { ok: true; fields: Common } | ({ ok: false } & RequestFailure) {
  let structured: StructuredRequest | null;
  try {
    structured = resolveStructured(b.response_format, b.structured_outputs);
  } catch (err) {
    if (!(err instanceof StructuredOutputError)) throw err;
    return { ok: false, message: err.message, type: "BadRequestError", param: kind === "chat" ? null : "structured_outputs" };
  }
  const stop = b.stop == null ? [] : typeof b.stop === "string" ? [b.stop] : b.stop;
  return {
    ok: true,
    fields: {
      model: b.model ?? undefined,
      n: b.n ?? 1,
      stop: stop.filter((s) => s.length > 0),
      includeStopStr: b.include_stop_str_in_output === true,
      seed: b.seed ?? null,
      // LIMO's generation config samples at 0.7 when the client sets nothing.
      temperature: b.temperature ?? DEFAULT_TEMPERATURE,
      stream: b.stream === true,
      includeUsage: b.stream_options?.include_usage === true,
      continuousUsage: b.stream_options?.include_usage === true && b.stream_options.continuous_usage_stats === true,
      minTokens: b.min_tokens ?? 0,
      ignoreEos: b.ignore_eos === true,
      structured,
    },
  };
}

/** A message's text: the string, or its text parts joined (vLLM's text-only path). */
function messageText(content: string | readonly { text: string }[] | null | undefined): string {
  if (content == null) return "";
  return typeof content === "string" ? content : content.map((p) => p.text).join("");
}
