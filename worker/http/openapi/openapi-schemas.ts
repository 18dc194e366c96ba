/**
 * @module openapi-schemas
 * Schemas that exist only to document the API (answers the Worker builds by
 * hand or relays from vLLM), and the helpers every documented route shares.
 */
import * as z from "zod";
import type { RouteConfig } from "@hono/zod-openapi";
import { ERROR_CODES } from "../../../shared/errors";
import { TutorResultSchema } from "../../../shared/tutor";

export const ErrorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]).nullable(),
    }),
  })
  .meta({ id: "Error", description: "OpenAI's error envelope; `x-request-id` identifies the request." });

type RequestBody = NonNullable<NonNullable<RouteConfig["request"]>["body"]>;

/** An error answer's documentation. */
export function errorDoc(description: string) {
  return { description, content: { "application/json": { schema: ErrorSchema } } };
}

/** The errors of a key-authenticated route, documented once. */
export const authErrors = {
  401: errorDoc("Missing, malformed, unknown, revoked or expired API key or client token (or a client token whose key is no longer valid)."),
  403: errorDoc(
    "The account is suspended (`account_suspended`), the browser origin is not allowed (`origin_not_allowed`), or a client token was used on a route it may not call (`permission_denied`).",
  ),
};

/**
 * A JSON body documented by reference to a registered component but not
 * validated by zod-openapi: our routes read bodies themselves (readJson +
 * parseWith) so a body without a JSON content type still works and every
 * problem comes back in our envelope.
 */
export function documentedJsonBody(componentId: string, required = true): RequestBody {
  return { required, content: { "application/json": { schema: { $ref: `#/components/schemas/${componentId}` } } } };
}

/** `final_answer` on every choice (shared/answers.ts): on the choice, not in `message`, so a chat history sent back carries nothing unknown. */
const FinalAnswer = z
  .string()
  .nullable()
  .describe("The content of the last `\\boxed{}` (or `\\fbox{}`), braces matched; null when the text has none (a cut answer). In a stream, on the chunk that carries the choice's `finish_reason`.");

/** The top-level `vote` of a request sent with `vote` (shared/answers.ts `VoteObject`). */
export const VoteSchema = z
  .object({
    answer: z.string().nullable().describe("The largest group's answer (its first member, as written); null when no choice has a final answer"),
    count: z.number().int(),
    of: z.number().int().describe("Choices voting, with or without a final answer"),
    agreement: z.number().describe("count / of"),
    groups: z.array(z.object({ answer: z.string(), count: z.number().int(), choices: z.array(z.number().int()) })).describe("Groups of equivalent final answers (by the answer checker), largest first"),
  })
  .meta({
    id: "Vote",
    description: "Majority voting over the choices' final answers, grouped by the answer checker. In a stream: one last chunk with empty `choices` and this `vote`, before `data: [DONE]`.",
  });

const UsageSchema = z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() });
const FinishReason = z.enum(["stop", "length", "abort"]).nullable();

export const ChatCompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal("chat.completion"),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({ role: z.literal("assistant"), content: z.string() }),
        logprobs: z.unknown(),
        finish_reason: FinishReason,
        final_answer: FinalAnswer,
      }),
    ),
    usage: UsageSchema,
    tutor: TutorResultSchema.optional().describe("With `tutor` in the request: what the tutor mode did (`usage` then totals every generation it billed)"),
    vote: VoteSchema.optional(),
  })
  .meta({ id: "ChatCompletion", description: "With `stream: true`, server-sent `chat.completion.chunk` events end with `data: [DONE]`." });

export const CompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal("text_completion"),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(z.object({ index: z.number().int(), text: z.string(), logprobs: z.unknown(), finish_reason: FinishReason, final_answer: FinalAnswer })),
    usage: UsageSchema,
    vote: VoteSchema.optional(),
  })
  .meta({ id: "Completion" });

export const ModelSchema = z
  .object({
    id: z.string(),
    object: z.literal("model"),
    created: z.number().int(),
    owned_by: z.string(),
    root: z.string().optional(),
    max_model_len: z.number().int().optional(),
  })
  .meta({ id: "Model" });

export const ModelListSchema = z.object({ object: z.literal("list"), data: z.array(ModelSchema) }).meta({ id: "ModelList" });
