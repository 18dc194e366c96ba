/**
 * @module openai-responses
 * The Responses API's wire format (`/v1/responses`): the request body we
 * accept (every field of openai 7.57's `ResponseCreateParamsBase`, plus our
 * extensions `cache`, `vote`, `tutor`), the response object and the stream
 * events we emit. What each request field does (served, accepted with no
 * effect, refused) is worker/responses/responses-fields.ts. A field OpenAI
 * does not define is a 400 naming it, as on chat.
 */
import * as z from "zod";
import type { VoteObject } from "./answers";
import { answerFields } from "./answers";
import { generationFields } from "./generations";
import { TutorRequestSchema, type TutorResult } from "./tutor";

const int = () => z.number().int();

/** Text parts of a message item: what a user writes and what an assistant answered. */
export const InputTextPartSchema = z.strictObject({ type: z.literal("input_text"), text: z.string() });
export const OutputTextPartSchema = z.strictObject({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(z.unknown()).nullish(),
  logprobs: z.array(z.unknown()).nullish(),
});
export const RefusalPartSchema = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });
/** Image, file and audio inputs: in OpenAI's schema, refused (LIMO reads text only). */
export const MediaInputPartSchema = z.looseObject({ type: z.enum(["input_image", "input_file", "input_audio"]) });

const ContentPartSchema = z.union([InputTextPartSchema, OutputTextPartSchema, RefusalPartSchema, MediaInputPartSchema]);

/** A message item: `type` may be left out, as the SDKs' easy input messages do. */
export const MessageItemSchema = z.strictObject({
  type: z.literal("message").optional(),
  id: z.string().max(256).nullish(),
  status: z.enum(["in_progress", "completed", "incomplete"]).nullish(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(ContentPartSchema)]),
  phase: z.enum(["commentary", "final_answer"]).nullish(),
});

/** Every other input item (tool calls and outputs, reasoning, item references): in OpenAI's schema, refused. */
export const OtherItemSchema = z.looseObject({ type: z.string().refine((t) => t !== "message") });

export const ResponseCreateRequestSchema = z.strictObject({
  model: z.string().min(1).max(256),
  input: z.union([z.string().min(1), z.array(z.union([MessageItemSchema, OtherItemSchema])).min(1).max(2048)]),
  instructions: z.string().nullish(),
  max_output_tokens: int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_obfuscation: z.boolean().nullish() }).nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().min(1).max(256).nullish(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, { error: "at most 16 key-value pairs" })
    .nullish(),
  user: z.string().max(256).nullish(),
  safety_identifier: z.string().max(64).nullish(),
  truncation: z.enum(["auto", "disabled"]).nullish(),
  text: z
    .strictObject({
      format: z.union([z.strictObject({ type: z.literal("text") }), z.looseObject({ type: z.enum(["json_object", "json_schema"]) })]).nullish(),
      verbosity: z.enum(["low", "medium", "high"]).nullish(),
    })
    .nullish(),
  reasoning: z
    .strictObject({
      effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh", "max"]).nullish(),
      summary: z.enum(["auto", "concise", "detailed"]).nullish(),
      generate_summary: z.enum(["auto", "concise", "detailed"]).nullish(),
      context: z.enum(["auto", "current_turn", "all_turns"]).nullish(),
      mode: z.string().max(64).nullish(),
    })
    .nullish(),
  include: z.array(z.string()).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).nullish(),
  tool_choice: z.union([z.enum(["none", "auto", "required"]), z.looseObject({ type: z.string() })]).nullish(),
  max_tool_calls: int().min(1).nullish(),
  top_logprobs: int().min(0).max(20).nullish(),
  service_tier: z.enum(["auto", "default", "flex", "scale", "priority", "fast"]).nullish(),
  prompt_cache_key: z.string().max(1024).nullish(),
  prompt_cache_retention: z.enum(["in_memory", "24h"]).nullish(),
  prompt_cache_options: z.looseObject({}).nullish(),
  conversation: z.union([z.string(), z.looseObject({ id: z.string() })]).nullish(),
  prompt: z.looseObject({ id: z.string() }).nullish(),
  context_management: z.array(z.looseObject({})).nullish(),
  access_programs: z.unknown().optional(),
  image: z.unknown().optional(),
  moderation: z.looseObject({}).nullish(),
  // Ours, as on chat: `background` and `cache` (shared/generations.ts; OpenAI has `background` too), `vote`, `tutor`.
  ...generationFields,
  ...answerFields,
  tutor: TutorRequestSchema.nullish(),
});

export type ResponseCreateRequest = z.infer<typeof ResponseCreateRequestSchema>;
export type MessageItem = z.infer<typeof MessageItemSchema>;
export type InputItem = Exclude<ResponseCreateRequest["input"], string>[number];

/** A message item (its `type` is `message` or left out), not a tool call, reasoning or reference item. */
export function isMessageItem(item: InputItem): item is MessageItem {
  return item.type === undefined || item.type === "message";
}

/** `GET /v1/responses/{id}`: `stream=true` replays the events after `starting_after` (a sequence number). */
export const ResponseRetrieveQuerySchema = z.object({
  stream: z.enum(["true", "false"]).optional(),
  starting_after: z.string().regex(/^\d{1,9}$/, { error: "must be a sequence number" }).optional(),
  include: z.union([z.string(), z.array(z.string())]).optional(),
});

/** `GET /v1/responses/{id}/input_items`: OpenAI's list parameters. */
export const InputItemsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  order: z.enum(["asc", "desc"]).optional(),
  after: z.string().max(256).optional(),
  before: z.string().max(256).optional(),
  include: z.union([z.string(), z.array(z.string())]).optional(),
});

export const RESPONSE_STATUSES = ["queued", "in_progress", "completed", "incomplete", "failed", "cancelled"] as const;
export type ResponseStatus = (typeof RESPONSE_STATUSES)[number];

export interface OutputText {
  type: "output_text";
  text: string;
  annotations: never[];
  logprobs: never[];
}

export interface OutputMessage {
  type: "message";
  id: string;
  status: "in_progress" | "completed" | "incomplete";
  role: "assistant";
  content: OutputText[];
}

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** An input item as `input_items` lists it (each with its own id). */
export interface InputMessageItem {
  type: "message";
  id: string;
  status: "completed";
  role: "user" | "assistant" | "system" | "developer";
  content: ({ type: "input_text"; text: string } | { type: "output_text"; text: string; annotations: never[] })[];
}

/** The response object, as OpenAI shapes it, with our `final_answer` (and `vote` when asked for). */
export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  status: ResponseStatus;
  background: boolean;
  completed_at: number | null;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  metadata: Record<string, string>;
  model: string;
  output: OutputMessage[];
  output_text: string;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: null };
  safety_identifier: string | null;
  service_tier: "default";
  store: boolean;
  temperature: number | null;
  text: { format: { type: "text" }; verbosity: "medium" };
  tool_choice: "auto";
  tools: never[];
  top_p: number | null;
  truncation: "disabled";
  usage: ResponseUsage | null;
  user: string | null;
  /** The last `\boxed{}` of the answer (worker/answers extract); null until the answer has one. */
  final_answer: string | null;
  vote?: VoteObject | null;
  /** With `tutor`: what the tutor mode did (as on chat); `final_answer` is then always null. */
  tutor?: TutorResult;
}

export const ResponseObjectSchema = z
  .looseObject({
    id: z.string().describe("`resp_…`"),
    object: z.literal("response"),
    created_at: z.number().int(),
    status: z.enum(RESPONSE_STATUSES),
    model: z.string(),
    output: z.array(z.looseObject({ type: z.literal("message"), id: z.string() })),
    output_text: z.string(),
    usage: z.looseObject({}).nullable(),
    final_answer: z.string().nullable().describe("The answer's last `\\boxed{}`; null until it exists"),
    previous_response_id: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
  })
  .meta({ id: "Response" });

/** The kinds of stream events we emit, in the order a response's stream carries them. */
export type ResponseEventType =
  | "response.created"
  | "response.in_progress"
  | "response.output_item.added"
  | "response.content_part.added"
  | "response.output_text.delta"
  | "response.output_text.done"
  | "response.content_part.done"
  | "response.output_item.done"
  | "response.completed"
  | "response.incomplete"
  | "response.failed"
  | "error";
