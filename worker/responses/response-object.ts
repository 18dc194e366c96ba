/**
 * @module response-object
 * The response object (`object: "response"`) from what a stored response
 * knows: its request (`ResponseRecord`) and how its chat completion ended.
 * Each chat choice is one output message (`msg_<response>_<choice>`); a
 * choice cut at `max_output_tokens` makes the response `incomplete`. Pure.
 */
import type { VoteObject, WithAnswers } from "../../shared/answers";
import type { GenerationObject } from "../../shared/generations";
import type { TutorResult } from "../../shared/tutor";
import type { ChatCompletion, Usage } from "../../shared/openai";
import type { InputMessageItem, OutputMessage, ResponseObject, ResponseStatus, ResponseUsage } from "../../shared/openai-responses";

/** What a stored response keeps: its request as the response object echoes it, its input, and its end once known. */
export interface ResponseRecord {
  id: string;
  /** Unix seconds. */
  createdAt: number;
  model: string;
  /** The generation that answers it (`gen_…`), when one does (streamed, cached or background). */
  generationId: string | null;
  background: boolean;
  store: boolean;
  instructions: string | null;
  maxOutputTokens: number | null;
  temperature: number | null;
  topP: number | null;
  metadata: Record<string, string>;
  previousResponseId: string | null;
  user: string | null;
  safetyIdentifier: string | null;
  reasoningEffort: string | null;
  input: InputMessageItem[];
  /** The finished response object, once it ended (completed, incomplete, failed, cancelled). */
  final: ResponseObject | null;
}

export type ChatAnswer = WithAnswers<ChatCompletion> & { vote?: VoteObject | null; tutor?: TutorResult };

const TERMINAL: ReadonlySet<ResponseStatus> = new Set(["completed", "incomplete", "failed", "cancelled"]);

export function isTerminal(status: ResponseStatus): boolean {
  return TERMINAL.has(status);
}

/** The id of choice `index`'s output message. */
export function outputItemId(responseId: string, index: number): string {
  return `msg_${responseId.replace(/^resp_/, "")}_${index}`;
}

/** Chat usage as the Responses API reports it (LIMO's reasoning is in the visible text: no hidden reasoning tokens). */
export function responseUsage(usage: Usage): ResponseUsage {
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.total_tokens,
  };
}

/** The response as it is while nothing has ended: no output, no usage. */
export function pendingResponse(record: ResponseRecord, status: "queued" | "in_progress"): ResponseObject {
  return {
    id: record.id,
    object: "response",
    created_at: record.createdAt,
    status,
    background: record.background,
    completed_at: null,
    error: null,
    incomplete_details: null,
    instructions: record.instructions,
    max_output_tokens: record.maxOutputTokens,
    metadata: record.metadata,
    model: record.model,
    output: [],
    output_text: "",
    parallel_tool_calls: false,
    previous_response_id: record.previousResponseId,
    reasoning: { effort: record.reasoningEffort, summary: null },
    safety_identifier: record.safetyIdentifier,
    service_tier: "default",
    store: record.store,
    temperature: record.temperature,
    text: { format: { type: "text" }, verbosity: "medium" },
    tool_choice: "auto",
    tools: [],
    top_p: record.topP,
    truncation: "disabled",
    usage: null,
    user: record.user,
    final_answer: null,
  };
}

/** One output message per choice; `texts[i]` is choice i's text so far. */
export function outputMessages(responseId: string, choices: readonly { text: string; done: boolean; cut: boolean }[]): OutputMessage[] {
  return choices.map((c, i) => ({
    type: "message",
    id: outputItemId(responseId, i),
    status: !c.done ? "in_progress" : c.cut ? "incomplete" : "completed",
    role: "assistant",
    content: [{ type: "output_text", text: c.text, annotations: [], logprobs: [] }],
  }));
}

/** The response of a completed chat answer (`incomplete` when a choice was cut at max_output_tokens). */
export function completedResponse(record: ResponseRecord, answer: ChatAnswer, completedAt: number): ResponseObject {
  const choices = [...answer.choices].sort((a, b) => a.index - b.index);
  const cut = choices.some((c) => c.finish_reason === "length");
  const output = outputMessages(
    record.id,
    choices.map((c) => ({ text: c.message.content, done: true, cut: c.finish_reason === "length" })),
  );
  const finalAnswer = answer.vote ? answer.vote.answer : (choices[0]?.final_answer ?? null);
  return {
    ...pendingResponse(record, "in_progress"),
    status: cut ? "incomplete" : "completed",
    completed_at: completedAt,
    incomplete_details: cut ? { reason: "max_output_tokens" } : null,
    output,
    output_text: output[0]?.content[0]?.text ?? "",
    usage: responseUsage(answer.usage),
    final_answer: finalAnswer ?? null,
    ...(answer.vote !== undefined ? { vote: answer.vote } : {}),
    ...(answer.tutor ? { tutor: answer.tutor } : {}),
  };
}

/** A response that ended without an answer: failed (with its error) or cancelled. */
export function endedResponse(record: ResponseRecord, status: "failed" | "cancelled", error: { code: string; message: string } | null, completedAt: number): ResponseObject {
  return { ...pendingResponse(record, "in_progress"), status, completed_at: completedAt, error: status === "failed" ? error : null };
}

/** The response a generation stands for now (polling a background or a streamed response). */
export function fromGeneration(record: ResponseRecord, generation: GenerationObject): ResponseObject {
  const completedAt = generation.completed_at ?? Math.floor(Date.now() / 1000);
  switch (generation.status) {
    case "completed":
      return generation.result ? completedResponse(record, generation.result as ChatAnswer, completedAt) : endedResponse(record, "failed", null, completedAt);
    case "failed":
      return endedResponse(record, "failed", generation.error ?? { code: "backend_error", message: "The model backend failed while generating." }, completedAt);
    case "cancelled":
      return endedResponse(record, "cancelled", null, completedAt);
    default:
      return pendingResponse(record, generation.status);
  }
}

/** The text a turn contributes to a follow-up's history: its first output message (the vote's choice has no special place). */
export function outputTextOf(response: ResponseObject): string | null {
  if (response.status !== "completed" && response.status !== "incomplete") return null;
  return response.output[0]?.content[0]?.text ?? "";
}
