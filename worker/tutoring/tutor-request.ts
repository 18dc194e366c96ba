/**
 * @module tutor-request
 * What a tutor request asks, read from a validated chat request, and every
 * refusal that needs no generation (so it costs nothing): fields that would
 * leak the withheld text (`logprobs`), that a guard cannot cover (`n` > 1,
 * `vote`, tools, `background`, whose answer is read later, unguarded), and a
 * conversation that does not end with the student. Pure.
 */
import type { ChatCompletionRequest, ChatMessage } from "../../shared/openai";
import type { TutorMode } from "../../shared/tutor";
import { ApiError } from "../core/errors";
import { extractAnswer } from "../answers/extract";
import { textOf } from "./prompts";

/** A tutor request, planned. */
export interface TutorPlan {
  mode: TutorMode;
  /** The request's `reference_answer`, or null: the hidden solve finds it. */
  reference: string | null;
  /** The problem the hidden solve is asked: the conversation's first user message. */
  problem: string;
  /** Check mode: the answer read from the student's last message. */
  studentAnswer: string | null;
}

/**
 * Fields refused with a tutor mode, by name (the request schema may grow:
 * each is refused whenever it is set). Why: `logprobs` carry the very tokens
 * the guard redacts; `n`/`vote` would need a guard per choice and a vote
 * over withheld answers; tools and structured output take text the guard
 * cannot rewrite; `background` answers are read later through
 * `/v1/generations`, which replays stored, unguarded events.
 */
const REFUSED_FIELDS = ["logprobs", "top_logprobs", "vote", "tools", "tool_choice", "functions", "function_call", "background", "audio", "prediction"] as const;

/** Reads and checks a chat request's tutor mode; throws the 400 that names the field. */
export function planTutorRequest(request: ChatCompletionRequest & Record<string, unknown>): TutorPlan {
  const tutor = request.tutor;
  if (!tutor) throw new ApiError("invalid_request", "Not a tutor request.", { param: "tutor" });
  for (const field of REFUSED_FIELDS) {
    const value = request[field];
    if (value !== undefined && value !== null && value !== false) refuse(field, `'${field}' cannot be used with 'tutor'.`);
  }
  if ((request.n ?? 1) > 1) refuse("n", "'tutor' answers one choice: 'n' must be 1.");
  const format = request.response_format as { type?: unknown } | null | undefined;
  if (format && format.type !== "text") refuse("response_format", "'tutor' answers in text: 'response_format' must be absent or {\"type\": \"text\"}.");
  const messages = request.messages as ChatMessage[];
  const last = messages[messages.length - 1]!;
  if (last.role !== "user") refuse("messages", "With 'tutor', the last message must be the student's (role 'user').");
  const firstUser = messages.find((m) => m.role === "user")!;
  let studentAnswer: string | null = null;
  if (tutor.mode === "check") {
    studentAnswer = extractAnswer(textOf(last.content));
    if (studentAnswer === null) {
      refuse(
        `messages[${messages.length - 1}].content`,
        "tutor mode 'check' found no answer in the last user message: send the student's answer as a number or expression (e.g. '1/2', 'x = 3'), in \\boxed{}, or after 'the answer is'.",
      );
    }
  }
  return { mode: tutor.mode, reference: tutor.reference_answer ?? null, problem: textOf(firstUser.content), studentAnswer };
}

function refuse(param: string, message: string): never {
  throw new ApiError("invalid_value", message, { param });
}
