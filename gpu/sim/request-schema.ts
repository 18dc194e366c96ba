/**
 * @module request-schema
 * Reads chat and completions bodies the way vLLM's OpenAI server does:
 * unknown fields are ignored (vLLM only logs them), wrong types and values
 * are a 400. The result is one normalised `GenerationRequest`. Deliberately
 * looser than the Worker's schemas in shared/openai.ts: the simulator plays
 * vLLM, not our API.
 */
import { z } from "zod";
import { DEFAULT_TEMPERATURE, MAX_CHOICES_N } from "../../shared/constants";
import { describeIssues } from "./config";
import { countChatTokens, countTextTokens } from "./tokenizer";

const int = () => z.number().int();

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
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  // vLLM extensions a benchmark may use to force long generations.
  ignore_eos: z.boolean().nullish(),
  min_tokens: int().min(0).nullish(),
  include_stop_str_in_output: z.boolean().nullish(),
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
  promptTokens: number;
  /** null: up to the end of the context window. */
  maxTokens: number | null;
  n: number;
  stop: string[];
  includeStopStr: boolean;
  seed: number | null;
  temperature: number;
  stream: boolean;
  includeUsage: boolean;
  /** Alternatives per token when logprobs were asked for, else null. */
  logprobs: number | null;
  /** Tokens to generate before an end of sequence is allowed. */
  minTokens: number;
  ignoreEos: boolean;
}

export type ParseResult = { ok: true; request: GenerationRequest } | { ok: false; message: string };

/** Parses a /v1/chat/completions body. */
export function parseChatRequest(body: unknown): ParseResult {
  const parsed = ChatBody.safeParse(body);
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error.issues) };
  const b = parsed.data;
  if (b.top_logprobs != null && b.logprobs !== true) {
    return { ok: false, message: "when using `top_logprobs`, `logprobs` must be set to true." };
  }
  const common = commonFields(b);
  if (!common.ok) return common;
  const contents = b.messages.map((m) => messageText(m.content));
  const lastUser = b.messages.findLast((m) => m.role === "user");
  return {
    ok: true,
    request: {
      ...common.fields,
      kind: "chat",
      promptText: b.messages.map((m, i) => `${m.role}\n${contents[i]}`).join("\n"),
      question: lastUser ? messageText(lastUser.content) : (contents.at(-1) ?? ""),
      promptTokens: countChatTokens(contents),
      // vLLM: `max_completion_tokens or max_tokens`.
      maxTokens: b.max_completion_tokens ?? b.max_tokens ?? null,
      logprobs: b.logprobs === true ? (b.top_logprobs ?? 0) : null,
    },
  };
}

/** Parses a /v1/completions body. */
export function parseCompletionRequest(body: unknown): ParseResult {
  const parsed = CompletionBody.safeParse(body);
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error.issues) };
  const b = parsed.data;
  const common = commonFields(b);
  if (!common.ok) return common;
  const prompt = typeof b.prompt === "string" ? b.prompt : (b.prompt[0] ?? "");
  return {
    ok: true,
    request: {
      ...common.fields,
      kind: "completion",
      promptText: prompt,
      question: prompt,
      promptTokens: countTextTokens(prompt),
      maxTokens: b.max_tokens ?? null,
      logprobs: b.logprobs ?? null,
    },
  };
}

type Common = Pick<
  GenerationRequest,
  "model" | "n" | "stop" | "includeStopStr" | "seed" | "temperature" | "stream" | "includeUsage" | "minTokens" | "ignoreEos"
>;

function commonFields(b: z.infer<typeof ChatBody> | z.infer<typeof CompletionBody>): { ok: true; fields: Common } | { ok: false; message: string } {
  if (b.stream_options != null && b.stream !== true) {
    return { ok: false, message: "Stream options can only be defined when `stream=True`." };
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
      minTokens: b.min_tokens ?? 0,
      ignoreEos: b.ignore_eos === true,
    },
  };
}

/** A message's text: the string, or its text parts joined (vLLM's text-only path). */
function messageText(content: string | readonly { text: string }[] | null | undefined): string {
  if (content == null) return "";
  return typeof content === "string" ? content : content.map((p) => p.text).join("");
}
