/**
 * @module content-chunk
 * The JSON path's fast read of vLLM's commonest event: a content chunk of one
 * choice, exactly as vLLM's serving code writes it,
 *
 *   data: {"id":"…","object":"chat.completion.chunk","created":N,"model":"…",
 *          "choices":[{"index":I,"delta":{"content":"…"},"logprobs":null,"finish_reason":null,"token_ids":null}]}
 *
 * (or a `text_completion` chunk with `"text":"…"`). One anchored regular
 * expression recognises the whole event, takes its choice index and its text,
 * and decodes the text's JSON escapes only when it has any. Anything else
 * (another key, a non-null value, a role, logprobs, a finish, usage, an error,
 * other spacing, an invalid escape) does not match, and the caller parses the
 * event in full. So a match must mean exactly what `JSON.parse` plus
 * `CompletionAssembler#addChunk` would take from it, and correctness never
 * depends on the fast path (tests/unit/content-chunk.test.ts checks both
 * against each other with fast-check).
 *
 * The head (id, created, model) is validated but not taken: the assembler
 * keeps the first chunk's, read in full.
 */
import type { Endpoint } from "../generations/prepare";

/** A JSON string's body: no quote, backslash or control character, or a valid escape. */
const STRING = String.raw`(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*`;
/** Choice keys whose `null` changes nothing for the assembler (`final_answer: null` does: not here). */
const NULL_KEYS = String.raw`(?:,"(?:logprobs|finish_reason|stop_reason|token_ids|prompt_token_ids)":null)*`;
const HEAD = (object: string) => String.raw`^data: \{"id":"${STRING}","object":"${object}","created":(?:0|[1-9]\d*),"model":"${STRING}","choices":\[\{"index":(0|[1-9]\d{0,8})`;

const CHAT = new RegExp(`${HEAD(String.raw`chat\.completion\.chunk`)},"delta":\\{"content":"(${STRING})"\\}${NULL_KEYS}\\}\\]\\}$`);
const COMPLETION = new RegExp(`${HEAD("text_completion")},"text":"(${STRING})"${NULL_KEYS}\\}\\]\\}$`);

export interface ContentChunk {
  index: number;
  text: string;
}

/** The choice index and text of a plain content chunk, or null: then parse the event in full. */
export function readContentChunk(event: string, endpoint: Endpoint): ContentChunk | null {
  const match = (endpoint === "chat" ? CHAT : COMPLETION).exec(event);
  if (match === null) return null;
  const raw = match[2]!;
  return { index: Number(match[1]), text: raw.includes("\\") ? (JSON.parse(`"${raw}"`) as string) : raw };
}
