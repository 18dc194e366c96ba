/**
 * @module sse
 * Server-sent events as vLLM and OpenAI frame them: `data: <payload>\n\n`,
 * ending with `data: [DONE]`. The splitter finds event boundaries without
 * JSON-parsing anything, so a relay can pass most events through untouched.
 */

export const SSE_DONE = "[DONE]";

/** One `data:` event, optionally with an `id:` line. */
export function sseEvent(data: string, id?: string | number): string {
  return id === undefined ? `data: ${data}\n\n` : `id: ${id}\ndata: ${data}\n\n`;
}

/** A comment line: ignored by clients, keeps proxies from closing an idle stream. */
export function sseComment(text: string): string {
  return `: ${text}\n\n`;
}

/**
 * Splits a text stream into whole events (each without its trailing blank
 * line). Tolerates CRLF framing and events split across network chunks.
 */
export class SseSplitter {
  #buffer = "";

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): string[] {
    let buf = this.#buffer + (text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text);
    const events: string[] = [];
    let start = 0;
    for (let end = buf.indexOf("\n\n"); end !== -1; end = buf.indexOf("\n\n", start)) {
      if (end > start) events.push(buf.slice(start, end));
      start = end + 2;
    }
    this.#buffer = start === 0 ? buf : buf.slice(start);
    buf = "";
    return events;
  }

  /** Whatever is left unterminated when the stream ends. */
  get rest(): string {
    return this.#buffer;
  }
}

/**
 * The data of an event: the `data:` lines joined by newlines, or null for an
 * event with none (a comment or a bare `id:`).
 */
export function sseData(event: string): string | null {
  if (event.startsWith("data: ") && !event.includes("\n")) return event.slice(6);
  let data: string | null = null;
  for (const line of event.split("\n")) {
    if (!line.startsWith("data:")) continue;
    const value = line.slice(line[5] === " " ? 6 : 5);
    data = data === null ? value : `${data}\n${value}`;
  }
  return data;
}
