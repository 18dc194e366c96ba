/**
 * @module routing/watchdog
 * Wraps a backend's event stream: it errors (and aborts the upstream) when the
 * first byte takes longer than `firstByteMs` or a later read longer than
 * `idleMs`, and reports once how the stream ended, so the backend's slot is
 * released whatever happens. vLLM sends its first chunk with the first token,
 * so the first byte is the time to first token.
 */

export type StreamEnd = "done" | "cancelled" | "broken" | "timeout";

export interface WatchOptions {
  firstByteMs: number;
  idleMs: number;
  /** Aborts the upstream fetch. */
  abort: () => void;
  /** Called exactly once. */
  onEnd: (end: StreamEnd) => void;
}

export class StreamTimeoutError extends Error {
  constructor(what: string) {
    super(`backend stream timed out: ${what}`);
    this.name = "StreamTimeoutError";
  }
}

export function watchStream(
  upstream: ReadableStream<Uint8Array>,
  options: WatchOptions,
): { stream: ReadableStream<Uint8Array>; timedOut: () => boolean } {
  const reader = upstream.getReader();
  let first = true;
  let ended = false;
  let timedOut = false;
  /** Whether `[DONE]` went by: a reader that cancels after it (the relay does) ended a complete stream. */
  let sawDone = false;
  const decoder = new TextDecoder();
  const end = (how: StreamEnd) => {
    if (ended) return;
    ended = true;
    options.onEnd(how);
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const limit = first ? options.firstByteMs : options.idleMs;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const expired = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), limit)));
        try {
          const result = await Promise.race([reader.read(), expired]);
          if (result === "timeout") {
            timedOut = true;
            options.abort();
            reader.cancel().catch(() => {});
            end("timeout");
            controller.error(new StreamTimeoutError(first ? "no first token" : "silent too long"));
            return;
          }
          if (result.done) {
            controller.close();
            end("done");
            return;
          }
          first = false;
          if (!sawDone && decoder.decode(result.value.subarray(Math.max(0, result.value.length - 32))).includes("[DONE]")) sawDone = true;
          controller.enqueue(result.value);
        } catch (err) {
          end("broken");
          controller.error(err);
        } finally {
          if (timer !== undefined) clearTimeout(timer);
        }
      },
      cancel(reason) {
        end(sawDone ? "done" : "cancelled");
        options.abort();
        return reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, timedOut: () => timedOut };
}
