/**
 * @module stream-events
 * Classifies one SSE event from vLLM without JSON-parsing the common case.
 * A content chunk is passed on untouched; only events that may be the usage
 * chunk, an error or `[DONE]` are looked at closely. Inside a JSON string every
 * quote is escaped, so an unescaped `"usage"` or `"error"` is a key (or, rarely,
 * a whole string value: then the parse tells them apart).
 */
import { errorBody } from "../../shared/errors";
import type { Usage } from "../../shared/openai";
import { SSE_DONE, sseData, sseEvent } from "../../shared/sse";

export type StreamEvent =
  | { kind: "chunk" }
  | { kind: "done" }
  | { kind: "usage"; usage: Usage }
  | { kind: "error"; message: string }
  | { kind: "other" };

const DONE_EVENT = `data: ${SSE_DONE}`;

export function classifyEvent(event: string): StreamEvent {
  if (event === DONE_EVENT) return { kind: "done" };
  const mayBeUsage = event.includes('"usage"');
  const mayBeError = event.includes('"error"');
  if (!mayBeUsage && !mayBeError) return event.startsWith("data:") ? { kind: "chunk" } : classifyRare(event);
  const data = sseData(event);
  if (data === null) return { kind: "other" };
  let json: { usage?: Usage | null; error?: unknown; choices?: unknown[] };
  try {
    json = JSON.parse(data);
  } catch {
    return { kind: "chunk" };
  }
  if (json.error !== undefined && json.error !== null) {
    const err = json.error as { message?: unknown };
    return { kind: "error", message: typeof err?.message === "string" ? err.message : String(json.error) };
  }
  if (json.usage && Array.isArray(json.choices) && json.choices.length === 0) return { kind: "usage", usage: json.usage };
  return { kind: "chunk" };
}

/** Events not starting with `data:`: comments, bare ids, or a `[DONE]` framed with extra lines. */
function classifyRare(event: string): StreamEvent {
  const data = sseData(event);
  if (data === SSE_DONE) return { kind: "done" };
  return data === null ? { kind: "other" } : { kind: "chunk" };
}

/** The event a client sees when the backend fails mid-stream: OpenAI's envelope, no internals. */
export const BACKEND_FAILED_EVENT = sseEvent(
  JSON.stringify(
    errorBody("backend_error", "The model backend failed while generating; the response is incomplete. Please retry."),
  ),
);
