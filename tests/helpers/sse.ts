/**
 * @module sse (test helper)
 * Reads an SSE response the way a client would.
 */
import { SSE_DONE, SseSplitter, sseData } from "../../shared/sse";

export interface ReadEvents {
  /** Data payloads in order, `[DONE]` included. */
  data: string[];
  /** Whole events as framed (comments, ids). */
  raw: string[];
}

/** Reads the whole stream (or `limit` data events, then cancels it). */
export async function readEvents(response: Response, limit = Infinity): Promise<ReadEvents> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const splitter = new SseSplitter();
  const out: ReadEvents = { data: [], raw: [] };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const event of splitter.push(decoder.decode(value, { stream: true }))) {
      out.raw.push(event);
      const data = sseData(event);
      if (data !== null) out.data.push(data);
      if (out.data.length >= limit) {
        await reader.cancel();
        return out;
      }
    }
  }
  return out;
}

/** The JSON chunks of a finished stream, without `[DONE]`. */
export function jsonChunks<T = Record<string, unknown>>(events: ReadEvents): T[] {
  return events.data.filter((d) => d !== SSE_DONE).map((d) => JSON.parse(d) as T);
}
