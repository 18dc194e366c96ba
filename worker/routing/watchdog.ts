/**
 * @module routing/watchdog
 * Watches a backend's event stream: it aborts the upstream when the first
 * byte takes longer than `firstByteMs` or a later read longer than `idleMs`,
 * and reports once how the stream ended, so the backend's slot is released
 * whatever happens. vLLM sends its first chunk with the first token,
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

/** What reads a watched backend body: `read` like a stream reader's, `cancel` saying how it ended. */
export interface WatchedReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  /** Stops reading: "done" after `[DONE]` (a complete answer), "cancelled" when the client went away. */
  cancel(how: "done" | "cancelled"): void;
}

/**
 * Watches the reads of a backend body without wrapping it in another stream
 * (a JavaScript stream layer costs tens of µs an SSE event). The consumer
 * reads through the returned reader; one timer per body, re-armed only when
 * it fires, checks the read in progress: no first byte within `firstByteMs`,
 * or a read pending longer than `idleMs`, aborts the upstream (the read then
 * fails) and `timedOut()` turns true. A consumer that is slow to ask is not a
 * silent backend: only a pending read counts. `onEnd` is called once.
 */
export function watchReads(
  upstream: ReadableStream<Uint8Array>,
  options: WatchOptions,
): { reader: WatchedReader; timedOut: () => boolean } {
  const reader = upstream.getReader();
  let first = true;
  let ended = false;
  let timedOut = false;
  /** When the pending read began (null while none is pending). */
  let readStartedAt: number | null = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
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
      end("timeout");
      options.abort();
      reader.cancel(new StreamTimeoutError(first ? "no first token" : "silent too long")).catch(() => {});
    }, ms);
  };
  arm(options.firstByteMs);
  return {
    timedOut: () => timedOut,
    reader: {
      async read() {
        // The first read's clock started when the request was sent.
        if (!first) readStartedAt = Date.now();
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (err) {
          end("broken");
          throw err;
        }
        readStartedAt = null;
        if (timedOut) throw new StreamTimeoutError(first ? "no first token" : "silent too long");
        if (result.done) end("done");
        else if (first) {
          // From now on the silence limit applies: swap the first-byte timer for it (once).
          first = false;
          if (timer !== undefined) clearTimeout(timer);
          arm(options.idleMs);
        }
        return result;
      },
      cancel(how) {
        const wasEnded = ended;
        end(how);
        if (wasEnded && how === "cancelled") return void reader.cancel().catch(() => {});
        if (how === "cancelled") options.abort();
        reader.cancel().catch(() => {});
      },
    },
  };
}

/** An unwatched body read the same way (the built-in simulator: nothing to time out, no slot to release). */
export function plainReads(upstream: ReadableStream<Uint8Array>): WatchedReader {
  const reader = upstream.getReader();
  return {
    read: () => reader.read(),
    cancel: () => void reader.cancel().catch(() => {}),
  };
}
