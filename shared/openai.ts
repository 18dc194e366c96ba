/**
 * @module openai
 * The OpenAI-compatible wire format we accept and emit: zod schemas for the
 * request bodies (the subset vLLM serves) and types for the responses and
 * stream chunks. Used by the Worker, the simulator and the tests.
 */
import { z } from "zod";
import { MAX_CHOICES_N } from "./constants";
import { generationFields } from "./generations";
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
  n: int().min(1).max(MAX_CHOICES_N).nullish(),
  stop: StopSchema.nullish(),
  seed: int().min(-(2 ** 63)).max(2 ** 63 - 1).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  repetition_penalty: z.number().gt(0).max(2).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_usage: z.boolean().nullish() }).nullish(),
  user: z.string().max(256).nullish(),
  // Durable generations (shared/generations.ts): never sent to the backend.
  ...generationFields,
  ...answerFields, // `vote` (shared/answers.ts): never sent to the backend
};

export const TextPartSchema = z.strictObject({ type: z.literal("text"), text: z.string() });

export const ChatMessageSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.union([z.string(), z.array(TextPartSchema).min(1)]),
  name: z.string().max(64).nullish(),
});

export const ChatCompletionRequestSchema = z.strictObject({
  ...samplingFields,
  messages: z.array(ChatMessageSchema).min(1).max(2048),
  max_completion_tokens: int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: int().min(0).max(20).nullish(),
});

export const CompletionRequestSchema = z.strictObject({
  ...samplingFields,
  // vLLM refuses an empty prompt ("Either prompt or prompt_embeds must be provided and non-empty"): refused here, free.
  prompt: z.union([z.string().min(1), z.array(z.string().min(1)).length(1)]),
  logprobs: int().min(0).max(5).nullish(),
});

export type ChatMessage = z.infer<typeof ChatMessageSchema>;
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
