/**
 * @module response-events
 * A chat completion stream, re-shaped into the Responses API's events, each
 * with its `sequence_number`: `response.created`, `response.in_progress`,
 * then per output message (one per chat choice) `output_item.added`,
 * `content_part.added`, `output_text.delta`…, `output_text.done`,
 * `content_part.done`, `output_item.done`, and last `response.completed`,
 * `response.incomplete` or `response.failed` with the whole response. An
 * error in the chat stream is an `error` event. Keep-alive comments pass
 * through as they are.
 *
 * The mapping is deterministic: the same chat events always give the same
 * numbered events, so a resume (`starting_after=N`) re-reads the generation
 * from its start and skips what the client has. Pure.
 */
import type { VoteObject } from "../../shared/answers";
import type { TutorResult } from "../../shared/tutor";
import type { Usage } from "../../shared/openai";
import type { ResponseEventType, ResponseObject } from "../../shared/openai-responses";
import { SSE_DONE, sseData } from "../../shared/sse";
import { outputItemId, outputMessages, pendingResponse, responseUsage, type ResponseRecord } from "./response-object";

interface ChoiceState {
  text: string;
  done: boolean;
  cut: boolean;
  finalAnswer: string | null;
}

/** What one chat SSE event carries, as far as the Responses events go. */
type ChatChunk = {
  choices?: { index: number; delta?: { content?: string | null }; finish_reason?: string | null; final_answer?: string | null }[];
  usage?: Usage | null;
  vote?: VoteObject;
  tutor?: TutorResult;
  error?: { message?: string; code?: string | null; param?: string | null; type?: string };
};

export class ResponseEventStreamer {
  readonly #record: ResponseRecord;
  readonly #startingAfter: number;
  readonly #choices: ChoiceState[] = [];
  #sequence = 0;
  #usage: Usage | null = null;
  #vote: VoteObject | null | undefined;
  #tutor: TutorResult | undefined;
  #final: ResponseObject | null = null;
  #completedAt: () => number;

  /** `startingAfter`: events numbered up to it are not emitted (-1: every event). */
  constructor(record: ResponseRecord, startingAfter = -1, completedAt: () => number = () => Math.floor(Date.now() / 1000)) {
    this.#record = record;
    this.#startingAfter = startingAfter;
    this.#completedAt = completedAt;
  }

  /** The response once the stream ended (completed, incomplete, failed or cancelled), else null. */
  get final(): ResponseObject | null {
    return this.#final;
  }

  /** The opening events. */
  start(): string {
    const status = this.#record.background ? "queued" : "in_progress";
    return this.#emit("response.created", { response: pendingResponse(this.#record, status) }) +
      this.#emit("response.in_progress", { response: pendingResponse(this.#record, "in_progress") });
  }

  /** The events for one chat SSE event (its `data:` text, or a comment line), in order. */
  push(event: string): string {
    if (this.#final) return "";
    if (event.startsWith(":")) return `${event}\n\n`;
    const data = sseData(event);
    if (data === null) return "";
    if (data === SSE_DONE) return this.#finish();
    let chunk: ChatChunk;
    try {
      chunk = JSON.parse(data) as ChatChunk;
    } catch {
      return "";
    }
    if (chunk.error) return this.#fail(chunk.error);
    if (chunk.usage) this.#usage = chunk.usage;
    if (chunk.vote !== undefined) this.#vote = chunk.vote;
    if (chunk.tutor) this.#tutor = chunk.tutor;
    let out = "";
    for (const choice of chunk.choices ?? []) out += this.#choice(choice);
    return out;
  }

  /** The chat stream ended without `[DONE]` or an error event (the connection to the generation broke). */
  broken(): string {
    if (this.#final) return "";
    return this.#fail({ code: "backend_error", message: "The model backend failed while generating." });
  }

  #choice(c: NonNullable<ChatChunk["choices"]>[number]): string {
    let out = "";
    for (let i = this.#choices.length; i <= c.index; i++) {
      this.#choices.push({ text: "", done: false, cut: false, finalAnswer: null });
      out += this.#opened(i);
    }
    const state = this.#choices[c.index]!;
    if (state.done) return out;
    const delta = c.delta?.content;
    if (delta) {
      state.text += delta;
      out += this.#emit("response.output_text.delta", { item_id: this.#itemId(c.index), output_index: c.index, content_index: 0, delta, logprobs: [] });
    }
    if (c.finish_reason) {
      state.done = true;
      state.cut = c.finish_reason === "length";
      state.finalAnswer = c.final_answer ?? null;
      out += this.#closed(c.index);
    }
    return out;
  }

  #opened(index: number): string {
    const item = { type: "message", id: this.#itemId(index), status: "in_progress", role: "assistant", content: [] };
    return this.#emit("response.output_item.added", { output_index: index, item }) +
      this.#emit("response.content_part.added", { item_id: this.#itemId(index), output_index: index, content_index: 0, part: textPart("") });
  }

  #closed(index: number): string {
    const text = this.#choices[index]!.text;
    const item = this.#output()[index]!;
    return this.#emit("response.output_text.done", { item_id: item.id, output_index: index, content_index: 0, text, logprobs: [] }) +
      this.#emit("response.content_part.done", { item_id: item.id, output_index: index, content_index: 0, part: textPart(text) }) +
      this.#emit("response.output_item.done", { output_index: index, item });
  }

  #finish(): string {
    let out = "";
    for (const [i, state] of this.#choices.entries()) {
      if (state.done) continue;
      state.done = true;
      out += this.#closed(i);
    }
    const cut = this.#choices.some((c) => c.cut);
    const output = this.#output();
    const finalAnswer = this.#vote ? this.#vote.answer : (this.#choices[0]?.finalAnswer ?? null);
    const response: ResponseObject = {
      ...pendingResponse(this.#record, "in_progress"),
      status: cut ? "incomplete" : "completed",
      completed_at: this.#completedAt(),
      incomplete_details: cut ? { reason: "max_output_tokens" } : null,
      output,
      output_text: output[0]?.content[0]?.text ?? "",
      usage: this.#usage ? responseUsage(this.#usage) : null,
      final_answer: finalAnswer ?? null,
      ...(this.#vote !== undefined ? { vote: this.#vote } : {}),
      ...(this.#tutor ? { tutor: this.#tutor } : {}),
    };
    this.#final = response;
    return out + this.#emit(cut ? "response.incomplete" : "response.completed", { response });
  }

  #fail(error: NonNullable<ChatChunk["error"]>): string {
    const code = error.code ?? "backend_error";
    const message = error.message ?? "The model backend failed while generating.";
    const cancelled = code === "generation_cancelled";
    const response: ResponseObject = {
      ...pendingResponse(this.#record, "in_progress"),
      status: cancelled ? "cancelled" : "failed",
      completed_at: this.#completedAt(),
      output: this.#output(),
      output_text: this.#choices[0]?.text ?? "",
      error: cancelled ? null : { code, message },
    };
    this.#final = response;
    return this.#emit("error", { code, message, param: error.param ?? null }) + this.#emit("response.failed", { response });
  }

  #output() {
    return outputMessages(this.#record.id, this.#choices);
  }

  #itemId(index: number): string {
    return outputItemId(this.#record.id, index);
  }

  /** One numbered event as SSE (`event:` names its type, as OpenAI sends it); empty when the client has it. */
  #emit(type: ResponseEventType, fields: Record<string, unknown>): string {
    const sequence = this.#sequence++;
    if (sequence <= this.#startingAfter) return "";
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...fields })}\n\n`;
  }
}

function textPart(text: string) {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}
