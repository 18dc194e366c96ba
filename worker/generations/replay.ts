/**
 * @module replay
 * Answers again with a finished completion, in the client's mode: the JSON
 * as it was, or an SSE stream that adds up to it (a role chunk, one chunk
 * with each choice's whole text, the finishing chunk, the usage chunk if
 * asked, the vote chunk if the answer was voted, `[DONE]`). Each finishing
 * chunk carries its choice's `final_answer`. Idempotent retries use it; so
 * can cache hits.
 */
import type { WithAnswers } from "../../shared/answers";
import type { ChatCompletion, Completion } from "../../shared/openai";
import { SSE_DONE, sseEvent } from "../../shared/sse";
import { SSE_HEADERS } from "../core/sse-headers";
import { voteChunk } from "./voting";

type Answer = WithAnswers<ChatCompletion> | WithAnswers<Completion>;

export function replayResponse(
  body: Answer,
  mode: { stream: boolean; includeUsage: boolean },
  headers: Record<string, string>,
): Response {
  if (!mode.stream) return Response.json(body, { headers });
  return new Response(completionToSse(body, mode.includeUsage), { headers: { ...SSE_HEADERS, ...headers } });
}

export function completionToSse(body: Answer, includeUsage: boolean): string {
  const head = { id: body.id, object: body.object === "chat.completion" ? "chat.completion.chunk" : "text_completion", created: body.created, model: body.model };
  const events: string[] = [];
  const emit = (choices: unknown[], extra: Record<string, unknown> = {}) => events.push(sseEvent(JSON.stringify({ ...head, choices, ...extra })));
  if (body.object === "chat.completion") {
    for (const c of body.choices) {
      emit([{ index: c.index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]);
      emit([{ index: c.index, delta: { content: c.message.content }, logprobs: c.logprobs, finish_reason: null }]);
      emit([{ index: c.index, delta: { content: "" }, logprobs: null, finish_reason: c.finish_reason, stop_reason: c.stop_reason ?? null, ...finalAnswerOf(c) }]);
    }
  } else {
    for (const c of body.choices) {
      emit([{ index: c.index, text: c.text, logprobs: c.logprobs, finish_reason: null }]);
      emit([{ index: c.index, text: "", logprobs: null, finish_reason: c.finish_reason, stop_reason: c.stop_reason ?? null, ...finalAnswerOf(c) }]);
    }
  }
  if (includeUsage) emit([], { usage: body.usage });
  if (body.vote) events.push(sseEvent(JSON.stringify(voteChunk(body, body.vote))));
  events.push(sseEvent(SSE_DONE));
  return events.join("");
}

/** The finishing chunk's `final_answer`, when the stored answer has one (answers kept before it existed have none). */
function finalAnswerOf(choice: { final_answer?: string | null }): { final_answer?: string | null } {
  return choice.final_answer === undefined ? {} : { final_answer: choice.final_answer };
}
