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

/** `]` in UTF-8: only a read ending in it can end with `[DONE]`. */
const CLOSE_BRACKET = 0x5d;
const DONE_TAIL = new TextEncoder().encode("[DONE]");

/** Whether the bytes end with `[DONE]` and at most a few trailing newlines. */
function endsWithDone(bytes: Uint8Array): boolean {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  if (end < DONE_TAIL.length || bytes[end - 1] !== CLOSE_BRACKET) return false;
  for (let i = 0; i < DONE_TAIL.length; i++) if (bytes[end - DONE_TAIL.length + i] !== DONE_TAIL[i]) return false;
  return true;
}

/**
 * One timer per stream, not one per read: each read only notes the time; the
 * timer, when it fires, either finds the stream silent too long or re-arms
 * for what is left (a relayed chunk costs microseconds, so a timer per read
 * would be most of its cost).
 */
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
  /** When the pending read began (null while none is pending: a slow reader is not a silent backend). */
  let readStartedAt: number | null = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failWithTimeout: ((err: Error) => void) | undefined;
  const end = (how: StreamEnd) => {
    if (ended) return;
    ended = true;
    if (timer !== undefined) clearTimeout(timer);
    options.onEnd(how);
  };
  const arm = (ms: number) => {
    timer = setTimeout(() => {
      if (ended) return;
      const limit = first ? options.firstByteMs : options.idleMs;
      if (readStartedAt === null) return arm(limit);
      const silent = Date.now() - readStartedAt;
      if (silent < limit) return arm(limit - silent);
      timedOut = true;
      options.abort();
      reader.cancel().catch(() => {});
      end("timeout");
      failWithTimeout?.(new StreamTimeoutError(first ? "no first token" : "silent too long"));
    }, ms);
  };
  arm(options.firstByteMs);
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        failWithTimeout = (err) => controller.error(err);
      },
      async pull(controller) {
        try {
          // The first read's clock started when the request was sent (arm below).
          if (!first) readStartedAt = Date.now();
          const result = await reader.read();
          if (ended) return;
          readStartedAt = null;
          if (result.done) {
            controller.close();
            end("done");
            return;
          }
          if (first) {
            // From now on the silence limit applies: swap the first-byte timer for it (once).
            first = false;
            if (timer !== undefined) clearTimeout(timer);
            arm(options.idleMs);
          }
          if (!sawDone && endsWithDone(result.value)) sawDone = true;
          controller.enqueue(result.value);
        } catch (err) {
          if (ended) return;
          end("broken");
          controller.error(err);
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
