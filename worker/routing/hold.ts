/**
 * @module routing/hold
 * The event stream a streaming client gets while its request waits for a cold
 * backend: SSE comment lines (`: waiting for a GPU backend to start`) at once
 * and every interval, so proxies keep the connection and the user sees
 * progress, then the generation's own events once a backend answers. If none
 * does, one error event in OpenAI's envelope and a clean end (the status line
 * is long gone).
 */
import { errorBody } from "../../shared/errors";
import { sseEvent } from "../../shared/sse";
import { ApiError } from "../errors";

export const WAITING_COMMENT = ": waiting for a GPU backend to start\n\n";

const encoder = new TextEncoder();

export interface HoldOptions {
  /** The events to relay once a backend answered; rejects when none did. */
  ready: Promise<ReadableStream<Uint8Array>>;
  intervalMs: number;
  /** The client went away while waiting (or while relaying). */
  onCancel: () => void;
}

export function holdingStream(options: HoldOptions): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setInterval> | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(WAITING_COMMENT));
      timer = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(WAITING_COMMENT));
        } catch {
          if (timer !== undefined) clearInterval(timer);
        }
      }, options.intervalMs);
      try {
        reader = (await options.ready).getReader();
      } catch (err) {
        if (timer !== undefined) clearInterval(timer);
        try {
          controller.enqueue(encoder.encode(errorEvent(err)));
          controller.close();
        } catch {
          // the client already left
        }
        return;
      }
      if (timer !== undefined) clearInterval(timer);
    },
    async pull(controller) {
      if (!reader) return;
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      if (timer !== undefined) clearInterval(timer);
      options.onCancel();
      return reader?.cancel(reason);
    },
  });
}

function errorEvent(err: unknown): string {
  const error = err instanceof ApiError ? err : new ApiError("backend_unavailable", "The model backend is unavailable. Please retry shortly.");
  return sseEvent(JSON.stringify(errorBody(error.code, error.message)));
}
