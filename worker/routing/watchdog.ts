/**
 * @module routing/watchdog
 * Watches a backend's event stream: it aborts the upstream when the first
 * byte takes longer than `firstByteMs` or a later read longer than `idleMs`,
 * and reports once how the stream ended, so the backend's slot is released
 * whatever happens. vLLM sends its first chunk with the first token,
 * so the first byte is the time to first token. It also decides how the body
 * is read: coalesced for relays (`read`), collected natively for the JSON
 * path (`text`); both are measured in `npm run bench`.
 */

export type StreamEnd = "done" | "cancelled" | "broken" | "timeout";

export interface WatchOptions {
  firstByteMs: number;
  idleMs: number;
  /**
   * Read coalescing: a read asked for sooner than this after the previous one
   * returned waits until then, so the events that arrive meanwhile come in
   * one read (0: off). See `coalesceMs` in routing/policy.
   */
  coalesceMs?: number;
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
  /**
   * The whole body as text, for a consumer that wants only the end (the JSON
   * path). The first `PLAIN_READS` reads are plain (a short answer is whole
   * by then, and a tee would cost more than it saves); after them the rest
   * collects natively, with no JavaScript per chunk, while the watchdog
   * follows progress through a tee branch read at most every
   * WATCH_INTERVAL_MS. Rejects when the body breaks or times out. Instead of
   * `read`, never with it.
   */
  text(): Promise<string>;
  /** When the first byte arrived (Unix ms), null before. */
  firstByteAt(): number | null;
  /** Stops reading: "done" after `[DONE]` (a complete answer), "cancelled" when the client went away. */
  cancel(how: "done" | "cancelled"): void;
}

/** How often `text()` looks at a body's progress, in ms: far finer than any timeout. */
const WATCH_INTERVAL_MS = 100;

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
  /** What the reads go through: the coalescing reader, or `text()`'s watch branch. Made on first use. */
  let source: Pick<ReadableStreamDefaultReader<Uint8Array>, "read" | "cancel"> | null = null;
  const reader = () => (source ??= coalescingReader(upstream, options.coalesceMs ?? 0));
  let first = true;
  let firstByteAt: number | null = null;
  let ended = false;
  let timedOut = false;
  /** `text()` collected the whole body: its watch branch is left to the garbage collector, not cancelled. */
  let collectedWhole = false;
  /** When the pending read began (null while none is pending). */
  let readStartedAt: number | null = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeoutError = () => new StreamTimeoutError(first ? "no first token" : "silent too long");
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
      source?.cancel(timeoutError()).catch(() => {});
    }, ms);
  };
  arm(options.firstByteMs);
  const watched: WatchedReader = {
    async read() {
      // The first read's clock started when the request was sent.
      if (!first) readStartedAt = Date.now();
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader().read();
      } catch (err) {
        end("broken");
        throw err;
      }
      readStartedAt = null;
      if (timedOut) throw timeoutError();
      if (result.done) end("done");
      else if (first) {
        // From now on the silence limit applies: swap the first-byte timer for it (once).
        first = false;
        firstByteAt = Date.now();
        if (timer !== undefined) clearTimeout(timer);
        arm(options.idleMs);
      }
      return result;
    },
    async text() {
      // The first reads are plain: a short answer is whole before a tee would pay for itself.
      const plain = upstream.getReader();
      source = plain;
      const decoder = new TextDecoder();
      let head = "";
      for (let i = 0; i < PLAIN_READS; i++) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await watched.read();
        } catch (err) {
          throw timedOut ? timeoutError() : err;
        }
        if (result.done) {
          collectedWhole = true;
          return head + decoder.decode();
        }
        head += decoder.decode(result.value, { stream: true });
      }
      plain.releaseLock();
      const [whole, watch] = upstream.tee();
      const collected = new Response(nativePipe(whole)).arrayBuffer().then((rest) => head + decoder.decode(rest));
      const byob = watch.getReader({ mode: "byob" });
      source = {
        read: () => byob.read(new Uint8Array(COALESCED_READ_BYTES)) as Promise<ReadableStreamReadResult<Uint8Array>>,
        cancel: (reason?: unknown) => byob.cancel(reason),
      };
      let collecting = true;
      let pause: ReturnType<typeof setTimeout> | undefined;
      const watching = (async () => {
        while (collecting && !(await watched.read()).done) await new Promise((resolve) => (pause = setTimeout(resolve, WATCH_INTERVAL_MS)));
      })();
      watching.catch(() => {});
      try {
        const text = await collected;
        collectedWhole = true;
        end("done");
        return text;
      } catch (err) {
        // The body is gone; the watch branch goes with it (left alone after a whole body: cancelling
        // a branch that holds buffered chunks costs more than letting it go).
        byob.cancel().catch(() => {});
        if (timedOut) throw timeoutError();
        end("broken");
        throw err;
      } finally {
        collecting = false;
        if (pause !== undefined) clearTimeout(pause);
      }
    },
    firstByteAt: () => firstByteAt,
    cancel(how) {
      const wasEnded = ended;
      end(how);
      if (collectedWhole) return;
      if (wasEnded && how === "cancelled") return void source?.cancel().catch(() => {});
      if (how === "cancelled") options.abort();
      source?.cancel().catch(() => {});
    },
  };
  return { timedOut: () => timedOut, reader: watched };
}

/** Reads taken one HTTP chunk at a time before coalescing starts: a short answer never pays for the tee. */
const PLAIN_READS = 32;
/** Bytes a coalesced read asks for at most: more than a full-speed stream sends in `coalesceMs`. */
const COALESCED_READ_BYTES = 32 * 1024;

/**
 * Reads a body so that what arrived together is read together. A fetch body
 * yields one HTTP chunk per read (vLLM writes one event per chunk), so every
 * event costs a read, a wake-up of the isolate and a trip through each stream
 * behind it: tens of µs an event. The first `PLAIN_READS` reads are plain
 * (the first tokens go on at once, and a short answer costs nothing more).
 * Then the body is teed: one branch is drained natively (piped into an
 * `IdentityTransformStream` that `Response#arrayBuffer` empties, no
 * JavaScript per chunk), which keeps the tee pulling from the socket into its
 * buffer; the other is read with a BYOB reader, which takes everything
 * buffered in one read. A read asked for within `coalesceMs` of the previous
 * one returning waits out the rest first, so the events that come meanwhile
 * join it. An event is delayed by at most `coalesceMs`, and only one that
 * followed the previous sooner than that.
 *
 * The cost is memory: the drained branch holds the rest of the body until it
 * ends, as large again as the events the generation object keeps (about
 * 250 bytes a token: some 8 MB for a 32k-token answer). No native sink that
 * discards is cheap: piping into `crypto.DigestStream` instead costs about
 * 15 µs an event (measured with bench/profile.ts), more than coalescing saves.
 */
function coalescingReader(
  upstream: ReadableStream<Uint8Array>,
  coalesceMs: number,
): Pick<ReadableStreamDefaultReader<Uint8Array>, "read" | "cancel"> {
  if (coalesceMs <= 0) return upstream.getReader();
  let plain: ReadableStreamDefaultReader<Uint8Array> | null = upstream.getReader();
  let byob: ReadableStreamBYOBReader | null = null;
  let reads = 0;
  let lastReturnAt = 0;
  const coalesced = () => {
    plain!.releaseLock();
    plain = null;
    const [reading, draining] = upstream.tee();
    void new Response(nativePipe(draining)).arrayBuffer().catch(() => {});
    return reading.getReader({ mode: "byob" });
  };
  return {
    async read() {
      if (plain && reads++ < PLAIN_READS) return plain.read();
      byob ??= coalesced();
      const wait = lastReturnAt + coalesceMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const result = (await byob.read(new Uint8Array(COALESCED_READ_BYTES))) as ReadableStreamReadResult<Uint8Array>;
      lastReturnAt = Date.now();
      return result;
    },
    cancel: (reason?: unknown) => (byob ?? plain ?? upstream).cancel(reason),
  };
}

/**
 * The stream through a native pipe. A tee pulls its source as the branches'
 * reads ask: `Response#text()` or `#arrayBuffer()` reading a branch directly
 * ask for large reads, and the tee then waits to fill them, which holds back
 * the other branch's reads. Piped (pumped natively, a chunk at a time) into
 * an `IdentityTransformStream`, the branch is drained as bytes arrive.
 */
function nativePipe(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const pipe = new IdentityTransformStream();
  void stream.pipeTo(pipe.writable).catch(() => {});
  return pipe.readable;
}

/** An unwatched body read the same way (the built-in simulator: nothing to time out, no slot to release). */
export function plainReads(upstream: ReadableStream<Uint8Array>): WatchedReader {
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  let firstByteAt: number | null = null;
  return {
    async read() {
      const result = await (reader ??= upstream.getReader()).read();
      if (!result.done) firstByteAt ??= Date.now();
      return result;
    },
    async text() {
      const text = await new Response(upstream).text();
      firstByteAt ??= Date.now();
      return text;
    },
    firstByteAt: () => firstByteAt,
    cancel: () => void (reader ?? upstream).cancel().catch(() => {}),
  };
}
