/**
 * @module openai
 * The OpenAI-compatible wire format we accept and emit: zod schemas for the
 * request bodies and types for the responses and stream chunks. Used by the
 * Worker, the simulator and the tests.
 *
 * The request schemas are OpenAI's current ones (chat completions, legacy
 * completions; openai 7.57's `ChatCompletionCreateParamsBase` and
 * `CompletionCreateParamsBase`), plus vLLM's sampling extensions and our
 * durable-generation options: every field OpenAI defines is accepted here,
 * a field it does not define is a 400 naming it. What each field then does
 * (served, mapped, accepted with no effect, refused with a reason) is
 * worker/generations/openai-fields.ts, the one table validation and the
 * README are built from.
 */
import * as z from "zod";
import { MAX_CHOICES_N } from "./constants";
import { generationFields } from "./generations";
import { TutorRequestSchema } from "./tutor";
import { answerFields } from "./answers";

const int = () => z.number().int();

/** Stop sequences: a string or up to 16 strings (OpenAI allows 4, vLLM more). */
export const StopSchema = z.union([z.string().min(1), z.array(z.string().min(1)).max(16)]);

/** Sampling fields shared by both endpoints. `null` means "unset", as with OpenAI. */
const samplingFields = {
  model: z.string().min(1).max(256),
  max_tokens: int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  n: int()
    .min(1)
    .max(MAX_CHOICES_N, { error: `LIMO serves at most ${MAX_CHOICES_N} choices a request (each is a full reasoning sequence)` })
    .nullish(),
  stop: StopSchema.nullish(),
  seed: int().min(-(2 ** 63)).max(2 ** 63 - 1).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  repetition_penalty: z.number().gt(0).max(2).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_usage: z.boolean().nullish(), include_obfuscation: z.boolean().nullish() }).nullish(),
  user: z.string().max(256).nullish(),
  safety_identifier: z.string().max(64).nullish(),
  // Token id (as a string) to a bias from -100 to 100, as OpenAI and vLLM take it.
  logit_bias: z.record(z.string().regex(/^\d{1,7}$/), z.number().min(-100).max(100)).nullish(),
  // Durable generations (shared/generations.ts): never sent to the backend.
  ...generationFields,
  ...answerFields, // `vote` (shared/answers.ts): never sent to the backend
};

/** OpenAI's explicit prompt-cache breakpoint on a text part (accepted, no effect: vLLM caches prefixes by itself). */
const PromptCacheBreakpointSchema = z.strictObject({ mode: z.literal("explicit"), ttl: z.enum(["30m", "12h"]).nullish() });

export const TextPartSchema = z.strictObject({
  type: z.literal("text"),
  text: z.string(),
  prompt_cache_breakpoint: PromptCacheBreakpointSchema.nullish(),
});

/** An assistant's refusal part, as OpenAI's own answers carry it back. */
export const RefusalPartSchema = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });

/** Image, audio and file parts: in OpenAI's schema, refused by the field table (LIMO reads text only). */
export const MediaPartSchema = z.looseObject({ type: z.enum(["image_url", "input_audio", "file"]) });

const TextContent = z.union([z.string(), z.array(TextPartSchema).min(1)]);
const MessageName = z.string().max(64).nullish();

/** A system or developer message (developer is OpenAI's newer name for system). */
const instructionMessage = <R extends "system" | "developer">(role: R) =>
  z.strictObject({ role: z.literal(role), content: TextContent, name: MessageName });

export const UserMessageSchema = z.strictObject({
  role: z.literal("user"),
  content: z.union([z.string(), z.array(z.union([TextPartSchema, MediaPartSchema])).min(1)]),
  name: MessageName,
});

/**
 * An assistant turn as clients send it back: OpenAI's request fields plus the
 * output-only ones its answers and its SDK's helpers carry (`annotations`,
 * `parsed`, and the reasoning fields of vLLM-style servers). The field table
 * says which are dropped and which refused.
 */
export const AssistantMessageSchema = z.strictObject({
  role: z.literal("assistant"),
  content: z.union([z.string(), z.array(z.union([TextPartSchema, RefusalPartSchema]))]).nullish(),
  name: MessageName,
  refusal: z.string().nullish(),
  annotations: z.array(z.looseObject({ type: z.string() })).nullish(),
  parsed: z.unknown().optional(),
  audio: z.looseObject({ id: z.string() }).nullish(),
  function_call: z.looseObject({ name: z.string(), arguments: z.string() }).nullish(),
  tool_calls: z.array(z.looseObject({ id: z.string(), type: z.string() })).nullish(),
  reasoning_content: z.string().nullish(),
  reasoning: z.string().nullish(),
});

/** Tool and function results: in OpenAI's schema, refused by the field table (LIMO calls no tools). */
export const ToolMessageSchema = z.strictObject({ role: z.literal("tool"), content: TextContent, tool_call_id: z.string() });
export const FunctionMessageSchema = z.strictObject({ role: z.literal("function"), content: z.string().nullable(), name: z.string() });

export const ChatMessageSchema = z.discriminatedUnion("role", [
  instructionMessage("system"),
  instructionMessage("developer"),
  UserMessageSchema,
  AssistantMessageSchema,
  ToolMessageSchema,
  FunctionMessageSchema,
]);

const JsonSchemaFormatSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, { error: "must be 1 to 64 letters, digits, underscores or dashes" }),
  description: z.string().nullish(),
  schema: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

/** `response_format`: passed to vLLM's structured outputs (it takes the same shape). */
export const ResponseFormatSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text") }),
  z.strictObject({ type: z.literal("json_object") }),
  z.strictObject({ type: z.literal("json_schema"), json_schema: JsonSchemaFormatSchema }),
]);

/** A function or tool definition: accepted only to be refused or dropped, so its inside is not checked. */
const ToolDefinition = z.looseObject({ type: z.string().optional() });

export const ChatCompletionRequestSchema = z.strictObject({
  ...samplingFields,
  messages: z.array(ChatMessageSchema).min(1).max(2048),
  max_completion_tokens: int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: int().min(0).max(20).nullish(),
  response_format: ResponseFormatSchema.nullish(),
  // Accepted with no effect (see worker/generations/openai-fields.ts).
  store: z.boolean().nullish(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, { error: "at most 16 key-value pairs" })
    .nullish(),
  service_tier: z.enum(["auto", "default", "flex", "scale", "priority", "fast"]).nullish(),
  verbosity: z.enum(["low", "medium", "high"]).nullish(),
  reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  prompt_cache_key: z.string().max(1024).nullish(),
  prompt_cache_options: z.strictObject({ mode: z.enum(["implicit", "explicit"]).nullish(), ttl: z.string().max(16).nullish() }).nullish(),
  prompt_cache_retention: z.enum(["in_memory", "24h"]).nullish(),
  modalities: z.array(z.enum(["text", "audio"])).nullish(),
  // Refused unless they ask for nothing (see the field table).
  tools: z.array(ToolDefinition).nullish(),
  tool_choice: z.union([z.enum(["none", "auto", "required"]), z.looseObject({ type: z.string() })]).nullish(),
  functions: z.array(ToolDefinition).nullish(),
  function_call: z.union([z.enum(["none", "auto"]), z.looseObject({ name: z.string() })]).nullish(),
  audio: z.looseObject({}).nullish(),
  prediction: z.looseObject({ type: z.string() }).nullish(),
  web_search_options: z.looseObject({}).nullish(),
  moderation: z.looseObject({ model: z.string() }).nullish(),
  tutor: TutorRequestSchema.nullish(),
});

export const CompletionRequestSchema = z.strictObject({
  ...samplingFields,
  // vLLM refuses an empty prompt ("Either prompt or prompt_embeds must be provided and non-empty"): refused here, free.
  // Batches and token ids are OpenAI's too; the field table refuses them with the reason.
  prompt: z.union([
    z.string().min(1),
    z.array(z.string().min(1)).min(1),
    z.array(int().min(0)).min(1),
    z.array(z.array(int().min(0)).min(1)).min(1),
  ]),
  logprobs: int().min(0).max(5).nullish(),
  echo: z.boolean().nullish(),
  best_of: int().min(1).max(20).nullish(),
  suffix: z.string().nullish(),
});

export type ChatMessage = z.infer<typeof ChatMessageSchema>;
export type ResponseFormat = z.infer<typeof ResponseFormatSchema>;
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;
export type CompletionRequest = z.infer<typeof CompletionRequestSchema>;

/** Token accounting as vLLM reports it (`completion_tokens` sums every choice). */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type FinishReason = "stop" | "length" | "abort" | null;

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: "assistant"; content?: string };
    logprobs?: unknown;
    finish_reason: FinishReason;
    stop_reason?: string | number | null;
  }[];
  usage?: Usage | null;
}

export interface CompletionChunk {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: {
    index: number;
    text: string;
    logprobs?: unknown;
    finish_reason: FinishReason;
    stop_reason?: string | number | null;
  }[];
  usage?: Usage | null;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: "assistant"; content: string };
    logprobs: unknown;
    finish_reason: FinishReason;
    stop_reason?: string | number | null;
  }[];
  usage: Usage;
}

export interface Completion {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: {
    index: number;
    text: string;
    logprobs: unknown;
    finish_reason: FinishReason;
    stop_reason?: string | number | null;
  }[];
  usage: Usage;
}

export interface ModelObject {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  root?: string;
  max_model_len?: number;
}
