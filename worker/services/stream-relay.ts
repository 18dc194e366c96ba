/**
 * @module stream-relay
 * Relays the backend's SSE to a streaming client chunk by chunk, with no
 * buffering beyond one network read. It drops the usage chunk unless the
 * client asked for it, turns a mid-stream failure into an error event and a
 * clean end, and reports once how the stream ended, so usage can be settled.
 * Pull-based: the backend is read only as fast as the client reads, and a
 * client that goes away cancels the backend fetch.
 */
import type { Usage } from "../../shared/openai";
import type { CompletionAssembler } from "./assemble";
import { SseSplitter, sseData } from "../../shared/sse";
import { BACKEND_FAILED_EVENT, classifyEvent } from "./stream-events";

export type StreamStatus = "ok" | "client_disconnected" | "backend_error";

/** How a relayed or assembled generation ended. */
export interface GenerationOutcome {
  status: StreamStatus;
  /** The backend's usage chunk, if it arrived. */
  usage: Usage | null;
  /** SSE data events carrying choices that reached the client (or were assembled). */
  chunks: number;
  /**
   * Completion tokens among them: chunks with text (vLLM sends one token a
   * chunk; the role chunk and the finishing chunk carry an empty string).
   */
  contentTokens: number;
  /** Unix milliseconds of the first token, if any came. */
  firstTokenAt: number | null;
  /** Internal reason for a failure, for the log. */
  reason?: string;
}

export interface RelayOptions {
  includeUsage: boolean;
  /** Also folds the stream into the whole answer (for an idempotent replay); parses every chunk. */
  assembler?: CompletionAssembler;
  /** Aborts the backend fetch (its body then errors or ends). */
  abortUpstream: () => void;
  /** Called exactly once, when the stream ends for any reason. */
  onEnd: (outcome: GenerationOutcome) => void;
}

const encoder = new TextEncoder();

export function relayStream(upstream: ReadableStream<Uint8Array>, options: RelayOptions): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  const splitter = new SseSplitter();
  let chunks = 0;
  let emptyChunks = 0;
  let usage: Usage | null = null;
  let firstTokenAt: number | null = null;
  let ended = false;

  const end = (status: StreamStatus, reason?: string) => {
    if (ended) return;
    ended = true;
    options.onEnd({ status, usage, chunks, contentTokens: chunks - emptyChunks, firstTokenAt, reason });
  };

  return new ReadableStream<Uint8Array>(
    {
      // Loops until it has enqueued something or ended the stream: with a high-water
      // mark of 0, a pull that enqueues nothing is never called again (the stream
      // would stall on a read that held only part of an event, or only a dropped usage chunk).
      async pull(controller) {
        for (;;) {
          let result: ReadableStreamReadResult<Uint8Array>;
          try {
            result = await reader.read();
          } catch (err) {
            if (ended) return;
            controller.enqueue(encoder.encode(BACKEND_FAILED_EVENT));
            controller.close();
            end("backend_error", `backend stream broke: ${String(err)}`);
            return;
          }
          if (ended) return;
          if (result.done) {
            controller.enqueue(encoder.encode(BACKEND_FAILED_EVENT));
            controller.close();
            end("backend_error", "backend stream ended without [DONE]");
            return;
          }
          const hadPartial = splitter.rest !== "";
          const events = splitter.push(decoder.decode(result.value, { stream: true }));
          // Fast path: whole events only, none to drop or rewrite: pass the bytes on as they came.
          let out = "";
          let rewritten = hadPartial || splitter.rest !== "";
          for (const event of events) {
            const kind = classifyEvent(event);
            switch (kind.kind) {
              case "chunk":
                chunks++;
                // An empty `content`/`text` string: no token (quotes inside text are escaped).
                if (event.includes(':""')) emptyChunks++;
                else firstTokenAt ??= Date.now();
                if (options.assembler) options.assembler.addChunk(sseData(event) ?? "{}");
                out += event + "\n\n";
                break;
              case "usage":
                usage = kind.usage;
                if (options.assembler) options.assembler.usage = kind.usage;
                if (options.includeUsage) out += event + "\n\n";
                else rewritten = true;
                break;
              case "done":
                controller.enqueue(encoder.encode(out + event + "\n\n"));
                controller.close();
                reader.cancel().catch(() => {});
                end("ok");
                return;
              case "error":
                controller.enqueue(encoder.encode(out + BACKEND_FAILED_EVENT));
                controller.close();
                options.abortUpstream();
                end("backend_error", `backend error event: ${kind.message}`);
                return;
              case "other":
                out += event + "\n\n";
                break;
            }
          }
          if (!rewritten && events.length > 0) {
            controller.enqueue(result.value);
            return;
          }
          if (out) {
            controller.enqueue(encoder.encode(out));
            return;
          }
        }
      },
      cancel() {
        options.abortUpstream();
        reader.cancel().catch(() => {});
        end("client_disconnected");
      },
    },
    { highWaterMark: 0 },
  );
}
