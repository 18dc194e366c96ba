/**
 * @module assemble
 * Builds an ordinary `chat.completion` or `text_completion` JSON from the
 * backend's stream, for clients that did not ask to stream (the backend is
 * always called streaming: Modal cuts non-streaming requests at 150 s).
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
import type { Endpoint } from "./prepare";
import type { GenerationOutcome } from "./stream-relay";
import { classifyEvent } from "./stream-events";

interface ChoiceState {
  parts: string[];
  finish_reason: FinishReason;
  stop_reason: string | number | null;
  logprobs: unknown[] | null;
  completionLogprobs: Record<string, unknown[]> | null;
}

export interface Assembled {
  body: ChatCompletion | Completion | null;
  outcome: GenerationOutcome;
}

/**
 * Reads the whole backend stream. Returns the assembled body when the stream
 * ended with `[DONE]` and its usage chunk; otherwise `body` is null and the
 * outcome says why.
 */
export async function assembleResponse(
  upstream: ReadableStream<Uint8Array>,
  endpoint: Endpoint,
  signal: AbortSignal,
): Promise<Assembled> {
  const splitter = new SseSplitter();
  const decoder = new TextDecoder();
  const choices = new Map<number, ChoiceState>();
  let head: { id: string; created: number; model: string } | null = null;
  let usage: Usage | null = null;
  let chunks = 0;
  let contentTokens = 0;
  let firstTokenAt: number | null = null;
  const outcome = (status: GenerationOutcome["status"], reason?: string): Assembled => ({
    body: null,
    outcome: { status, usage, chunks, contentTokens, firstTokenAt, reason },
  });

  const reader = upstream.getReader();
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (err) {
        return outcome(signal.aborted ? "client_disconnected" : "backend_error", `backend stream broke: ${String(err)}`);
      }
      if (result.done) return outcome("backend_error", "backend stream ended without [DONE]");
      for (const event of splitter.push(decoder.decode(result.value, { stream: true }))) {
        const kind = classifyEvent(event);
        if (kind.kind === "usage") usage = kind.usage;
        else if (kind.kind === "error") return outcome("backend_error", `backend error event: ${kind.message}`);
        else if (kind.kind === "done") {
          if (!head || !usage) return outcome("backend_error", "backend stream had no chunks or no usage");
          return {
            body: build(endpoint, head, choices, usage),
            outcome: { status: "ok", usage, chunks, contentTokens, firstTokenAt },
          };
        } else if (kind.kind === "chunk") {
          const data = sseData(event);
          if (data === null) continue;
          const chunk = JSON.parse(data) as ChatCompletionChunk | CompletionChunk;
          head ??= { id: chunk.id, created: chunk.created, model: chunk.model };
          chunks++;
          for (const choice of chunk.choices) if (absorb(choices, endpoint, choice)) {
            contentTokens++;
            firstTokenAt ??= Date.now();
          }
        }
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Adds one chunk's choice to its state; true when it carried a token. */
function absorb(
  choices: Map<number, ChoiceState>,
  endpoint: Endpoint,
  choice: ChatCompletionChunk["choices"][number] | CompletionChunk["choices"][number],
): boolean {
  let state = choices.get(choice.index);
  if (!state) {
    state = { parts: [], finish_reason: null, stop_reason: null, logprobs: null, completionLogprobs: null };
    choices.set(choice.index, state);
  }
  const text = endpoint === "chat" ? (choice as ChatCompletionChunk["choices"][number]).delta.content : (choice as CompletionChunk["choices"][number]).text;
  if (text) state.parts.push(text);
  if (choice.finish_reason) state.finish_reason = choice.finish_reason;
  if (choice.stop_reason !== undefined && choice.stop_reason !== null) state.stop_reason = choice.stop_reason;
  if (choice.logprobs) mergeLogprobs(state, endpoint, choice.logprobs);
  return Boolean(text);
}

/** Chat logprobs arrive as `{content: [...]}`; completion logprobs as parallel arrays. */
function mergeLogprobs(state: ChoiceState, endpoint: Endpoint, logprobs: unknown): void {
  if (endpoint === "chat") {
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

function build(
  endpoint: Endpoint,
  head: { id: string; created: number; model: string },
  choices: Map<number, ChoiceState>,
  usage: Usage,
): ChatCompletion | Completion {
  const ordered = [...choices.entries()].sort((a, b) => a[0] - b[0]);
  if (endpoint === "chat") {
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
