/**
 * @module guarded-relay
 * The guard between a generation and the student. `guardText` is the JSON
 * path's: every leak of the reference (and every `\boxed{}`, equal or not)
 * found in the whole text and redacted. `guardedChatStream` is the stream's:
 * it reads a chat completion's SSE, passes each choice's text through a
 * `LeakGuard` (which holds back only what could still grow into a leak),
 * and writes new events built field by field, never the stored ones: no
 * `id:` lines (a tutor stream is not resumable: its stored events are
 * unguarded), no field this relay does not know (a raw `final_answer` on the
 * finishing chunk would give the answer away). The finishing chunk carries
 * `tutor`; the usage chunk, when asked for, carries the tutor request's total.
 * Pure: no bindings (the checker Worker comes in as `remote`).
 */
import type { ChatCompletionChunk, Usage } from "../../shared/openai";
import { SSE_DONE, SseSplitter, sseData, sseEvent } from "../../shared/sse";
import type { TutorResult } from "../../shared/tutor";
import { DEFAULT_REDACTION, LeakGuard } from "../answers/leak-guard";
import type { RemoteCheck } from "../answers/check";
import { findAnswerLeaks, redactLeaks, type Leak } from "../answers/leaks";

/** A text with its leaks redacted. */
export interface GuardedText {
  text: string;
  leaks: Leak[];
}

/** The whole text, guarded: what the JSON path serves. */
export async function guardText(text: string, reference: string, remote: RemoteCheck | null): Promise<GuardedText> {
  const leaks = await findAnswerLeaks(text, reference, { remote });
  return { text: redactLeaks(text, leaks, DEFAULT_REDACTION), leaks };
}

/** Adds usages field by field. */
export function sumUsage(usages: readonly (Usage | null | undefined)[]): Usage {
  const total: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const u of usages) {
    if (!u) continue;
    total.prompt_tokens += u.prompt_tokens;
    total.completion_tokens += u.completion_tokens;
    total.total_tokens += u.total_tokens;
  }
  return total;
}

export interface GuardedStreamOptions {
  reference: string;
  /** Where the probes that need the CAS go (the checker Worker); null: they count as leaks. */
  remote: RemoteCheck | null;
  /** The client asked for the usage chunk. */
  includeUsage: boolean;
  /** Usage of the tutor request's other generations (the hidden solve), added to the relayed one's. */
  earlierUsage: readonly Usage[];
  /** The finishing chunk's `tutor`, given the redactions made. */
  tutor: (redactions: number) => TutorResult;
}

type Choice = ChatCompletionChunk["choices"][number];

/** The guarded stream of a chat completion's SSE `upstream` (one choice). */
export function guardedChatStream(upstream: ReadableStream<Uint8Array>, options: GuardedStreamOptions): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  const guard = new LeakGuard(options.reference, { remote: options.remote });
  const splitter = new SseSplitter();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let head: Pick<ChatCompletionChunk, "id" | "object" | "created" | "model"> | null = null;
  let finished = false;
  let done = false;

  const chunk = (choice: Choice, extra: Record<string, unknown> = {}) => sseEvent(JSON.stringify({ ...head, choices: [choice], ...extra }));
  // Releases what the guard still holds (a stream that ends without its finishing chunk, or breaks).
  const flush = async (): Promise<string> => {
    if (finished) return "";
    finished = true;
    const rest = await guard.end();
    const out = rest && head ? chunk({ index: 0, delta: { content: rest }, logprobs: null, finish_reason: null }) : "";
    return out;
  };

  const relay = async (event: string): Promise<string> => {
    const data = sseData(event);
    if (data === null) {
      // Keep-alive comments pass; bare `id:` lines do not.
      const comments = event.split("\n").filter((l) => l.startsWith(":"));
      return comments.length > 0 ? `${comments.join("\n")}\n\n` : "";
    }
    if (data === SSE_DONE) {
      done = true;
      return (await flush()) + sseEvent(SSE_DONE);
    }
    const parsed = JSON.parse(data) as Partial<ChatCompletionChunk> & { error?: unknown };
    if (parsed.error !== undefined) return (await flush()) + sseEvent(JSON.stringify({ error: parsed.error }));
    head ??= { id: parsed.id!, object: "chat.completion.chunk", created: parsed.created!, model: parsed.model! };
    const choice = parsed.choices?.[0];
    if (!choice) {
      if (!parsed.usage || !options.includeUsage) return "";
      return sseEvent(JSON.stringify({ ...head, choices: [], usage: sumUsage([...options.earlierUsage, parsed.usage]) }));
    }
    let content = choice.delta.content ? await guard.push(choice.delta.content) : "";
    const delta: Choice["delta"] = choice.delta.role ? { role: choice.delta.role, content } : { content };
    if (choice.finish_reason === null || choice.finish_reason === undefined) {
      return content || choice.delta.role ? chunk({ index: 0, delta, logprobs: null, finish_reason: null }) : "";
    }
    finished = true;
    content += await guard.end();
    delta.content = content;
    const tutor = options.tutor(guard.leaks.length);
    return chunk({ index: 0, delta, logprobs: null, finish_reason: choice.finish_reason, stop_reason: choice.stop_reason ?? null }, { tutor });
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (done) return controller.close();
        const { done: ended, value } = await reader.read();
        if (ended) {
          const rest = await flush();
          if (rest) controller.enqueue(encoder.encode(rest));
          return controller.close();
        }
        let out = "";
        for (const event of splitter.push(decoder.decode(value, { stream: true }))) out += await relay(event);
        if (out) return controller.enqueue(encoder.encode(out));
      }
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
}
