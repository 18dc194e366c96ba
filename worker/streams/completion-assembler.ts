/**
 * @module assemble
 * Builds an ordinary `chat.completion` or `text_completion` JSON from the
 * backend's stream: for clients that did not ask to stream (the backend is
 * always called streaming: Modal cuts non-streaming requests at 150 s), and
 * to keep a streamed answer for an idempotent replay.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  Completion,
  CompletionChunk,
  FinishReason,
  Usage,
} from "../../shared/openai";
import { SseSplitter, sseData } from "../../shared/sse";
import type { Endpoint } from "../generations/prepare";
import type { GenerationOutcome } from "../routing/generation-outcome";
import type { WatchedReader } from "../routing/watchdog";
import { classifyEvent } from "./stream-events";

interface ChoiceState {
  parts: string[];
  finish_reason: FinishReason;
  stop_reason: string | number | null;
  logprobs: unknown[] | null;
  completionLogprobs: Record<string, unknown[]> | null;
}

type ChunkChoice = ChatCompletionChunk["choices"][number] | CompletionChunk["choices"][number];

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
  build(): ChatCompletion | Completion | null {
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
      })),
      usage,
    };
  }

  #absorb(choice: ChunkChoice): boolean {
    let state = this.#choices.get(choice.index);
    if (!state) {
      state = { parts: [], finish_reason: null, stop_reason: null, logprobs: null, completionLogprobs: null };
      this.#choices.set(choice.index, state);
    }
    const text =
      this.#endpoint === "chat"
        ? (choice as ChatCompletionChunk["choices"][number]).delta.content
        : (choice as CompletionChunk["choices"][number]).text;
    if (text) state.parts.push(text);
    if (choice.finish_reason) state.finish_reason = choice.finish_reason;
    if (choice.stop_reason !== undefined && choice.stop_reason !== null) state.stop_reason = choice.stop_reason;
    if (choice.logprobs) this.#mergeLogprobs(state, choice.logprobs);
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

export interface Assembled {
  body: ChatCompletion | Completion | null;
  outcome: GenerationOutcome;
}

/**
 * Reads the whole backend stream (collected natively: `WatchedReader#text`,
 * no JavaScript per chunk) and folds it. Returns the assembled body when the
 * stream ended with `[DONE]` and its usage chunk; otherwise `body` is null and
 * the outcome says why.
 */
export async function assembleResponse(reader: WatchedReader, endpoint: Endpoint, signal: AbortSignal): Promise<Assembled> {
  const assembler = new CompletionAssembler(endpoint);
  let chunks = 0;
  let contentTokens = 0;
  const outcome = (status: GenerationOutcome["status"], reason?: string): Assembled => ({
    body: null,
    outcome: { status, usage: assembler.usage, chunks, contentTokens, firstTokenAt: reader.firstByteAt(), reason },
  });

  let text: string;
  try {
    text = await reader.text();
  } catch (err) {
    return outcome(signal.aborted ? "client_disconnected" : "backend_error", `backend stream broke: ${String(err)}`);
  } finally {
    // After the whole body this changes nothing; otherwise the backend is told to stop.
    reader.cancel("cancelled");
  }
  for (const event of new SseSplitter().push(text)) {
    const kind = classifyEvent(event);
    if (kind.kind === "usage") assembler.usage = kind.usage;
    else if (kind.kind === "error") return outcome("backend_error", `backend error event: ${kind.message}`);
    else if (kind.kind === "done") {
      const body = assembler.build();
      if (!body) return outcome("backend_error", "backend stream had no chunks or no usage");
      return { body, outcome: { status: "ok", usage: assembler.usage, chunks, contentTokens, firstTokenAt: reader.firstByteAt() } };
    } else if (kind.kind === "chunk") {
      const data = sseData(event);
      if (data === null) continue;
      chunks++;
      contentTokens += assembler.addChunk(data);
    }
  }
  return outcome("backend_error", "backend stream ended without [DONE]");
}
