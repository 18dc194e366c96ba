/**
 * @module completion-assembler
 * Folds the backend's stream chunks into an ordinary `chat.completion` or
 * `text_completion` JSON: for clients that did not ask to stream (the backend
 * is always called streaming: Modal cuts non-streaming requests at 150 s),
 * and to keep a streamed answer for an idempotent replay. Every choice gets
 * its `final_answer`: the one its finishing chunk carried (the generation
 * object stamps it there, streams/final-answers), else read once here from
 * the whole text (the direct JSON path). Pure.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  Completion,
  CompletionChunk,
  FinishReason,
  Usage,
} from "../../shared/openai";
import type { AnswerChoiceFields, WithAnswers } from "../../shared/answers";
import { lastBoxedAnswer } from "../answers/extract";
import type { Endpoint } from "../generations/prepare";

interface ChoiceState {
  parts: string[];
  finish_reason: FinishReason;
  stop_reason: string | number | null;
  logprobs: unknown[] | null;
  completionLogprobs: Record<string, unknown[]> | null;
  /** From the finishing chunk; undefined when it carried none (then read from the text at build). */
  finalAnswer: string | null | undefined;
}

type ChunkChoice = (ChatCompletionChunk["choices"][number] | CompletionChunk["choices"][number]) & AnswerChoiceFields;

/** What `build` answers: OpenAI's completion with `final_answer` on every choice. */
export type AnsweredCompletion = WithAnswers<ChatCompletion> | WithAnswers<Completion>;

/** Folds stream chunks into the answer they add up to. */
export class CompletionAssembler {
  readonly #endpoint: Endpoint;
  readonly #choices = new Map<number, ChoiceState>();
  #head: { id: string; created: number; model: string } | null = null;
  usage: Usage | null = null;

  constructor(endpoint: Endpoint) {
    this.#endpoint = endpoint;
  }

  /** Adds one chunk's JSON; returns how many tokens (choices with text) it carried. */
  addChunk(json: string): number {
    const chunk = JSON.parse(json) as ChatCompletionChunk | CompletionChunk;
    this.#head ??= { id: chunk.id, created: chunk.created, model: chunk.model };
    let tokens = 0;
    for (const choice of chunk.choices) if (this.#absorb(choice)) tokens++;
    return tokens;
  }

  /** The whole answer, or null if no chunk or no usage arrived. */
  build(): AnsweredCompletion | null {
    const head = this.#head;
    const usage = this.usage;
    if (!head || !usage) return null;
    const ordered = [...this.#choices.entries()].sort((a, b) => a[0] - b[0]);
    if (this.#endpoint === "chat") {
      return {
        ...head,
        object: "chat.completion",
        choices: ordered.map(([index, s]) => ({
          index,
          message: { role: "assistant", content: s.parts.join("") },
          logprobs: s.logprobs ? { content: s.logprobs } : null,
          finish_reason: s.finish_reason,
          stop_reason: s.stop_reason,
          final_answer: finalAnswerOf(s),
        })),
        usage,
      };
    }
    return {
      ...head,
      object: "text_completion",
      choices: ordered.map(([index, s]) => ({
        index,
        text: s.parts.join(""),
        logprobs: s.completionLogprobs,
        finish_reason: s.finish_reason,
        stop_reason: s.stop_reason,
        final_answer: finalAnswerOf(s),
      })),
      usage,
    };
  }

  /**
   * Adds a plain content chunk already read by streams/content-chunk (one
   * choice's text, nothing else): what `addChunk` would do with its JSON.
   * Only after a first chunk, which sets the answer's id, created and model.
   */
  addContent(index: number, text: string): number {
    if (!this.#head) throw new Error("addContent before the first chunk");
    if (!text) {
      this.#state(index);
      return 0;
    }
    this.#state(index).parts.push(text);
    return 1;
  }

  /** Whether a first chunk arrived (so `addContent` may be used). */
  get started(): boolean {
    return this.#head !== null;
  }

  #state(index: number): ChoiceState {
    let state = this.#choices.get(index);
    if (!state) {
      state = { parts: [], finish_reason: null, stop_reason: null, logprobs: null, completionLogprobs: null, finalAnswer: undefined };
      this.#choices.set(index, state);
    }
    return state;
  }

  #absorb(choice: ChunkChoice): boolean {
    const state = this.#state(choice.index);
    const text =
      this.#endpoint === "chat"
        ? (choice as ChatCompletionChunk["choices"][number]).delta.content
        : (choice as CompletionChunk["choices"][number]).text;
    if (text) state.parts.push(text);
    if (choice.finish_reason) state.finish_reason = choice.finish_reason;
    if (choice.stop_reason !== undefined && choice.stop_reason !== null) state.stop_reason = choice.stop_reason;
    if (choice.logprobs) this.#mergeLogprobs(state, choice.logprobs);
    if (choice.final_answer !== undefined) state.finalAnswer = choice.final_answer;
    return Boolean(text);
  }

  /** Chat logprobs arrive as `{content: [...]}`; completion logprobs as parallel arrays. */
  #mergeLogprobs(state: ChoiceState, logprobs: unknown): void {
    if (this.#endpoint === "chat") {
      const content = (logprobs as { content?: unknown[] }).content;
      if (Array.isArray(content)) (state.logprobs ??= []).push(...content);
      return;
    }
    const lp = logprobs as Record<string, unknown>;
    state.completionLogprobs ??= { text_offset: [], token_logprobs: [], tokens: [], top_logprobs: [] };
    for (const key of Object.keys(state.completionLogprobs)) {
      const values = lp[key];
      if (Array.isArray(values)) state.completionLogprobs[key]!.push(...values);
    }
  }
}

/** The choice's final answer: as its finishing chunk said, else from its whole text (one scan). */
function finalAnswerOf(state: ChoiceState): string | null {
  return state.finalAnswer !== undefined ? state.finalAnswer : lastBoxedAnswer(state.parts.join(""));
}
