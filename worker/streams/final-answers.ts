/**
 * @module final-answers
 * Puts `final_answer` (the content of the last `\boxed{}`, worker/answers
 * `lastBoxedAnswer`) on the stream chunk that carries a choice's
 * `finish_reason`, once, before the event is stored: every reader of the
 * generation (the streaming client, a coalesced one, a cache hit, a resume,
 * the assembled JSON) then gets it from the stored events, never recomputed.
 *
 * Cheap on purpose (the generation object relays every token): an event that
 * finishes nothing is passed on after one substring test, without parsing.
 * Only at a finish is the choice's text read, backwards from the finishing
 * event, parsing only the events of the tail that contains the last box
 * command: in a LIMO answer the box is in the last few dozen tokens, so a
 * 10,000-token answer parses a few dozen events, not 10,000. A choice without
 * a box (a cut answer) is read to its start once, and its answer is null.
 */
import { sseData } from "../../shared/sse";
import { lastBoxedAnswer } from "../answers/extract";
import type { Endpoint } from "../generations/prepare";

/** A box command, as `lastBoxedAnswer` finds them; the tail must contain the last one. */
const BOX_COMMAND = /\\(?:boxed|fbox)(?![A-Za-z])/;

interface ChunkChoice {
  index: number;
  delta?: { content?: string | null };
  text?: string | null;
  finish_reason?: string | null;
  final_answer?: string | null;
}

const FINISH_KEY = '"finish_reason":';
const SPACE = 32;
const QUOTE = 34;

/**
 * True when the event finishes a choice (a string `finish_reason`). The key
 * is searched from the end, where vLLM puts it, so an ordinary token costs
 * one short backward search (about 70 ns here against 490 ns for a forward
 * `includes`). vLLM sends one choice per chunk; in a chunk of several only
 * the last is looked at (the assembled JSON still reads the others' answers
 * from their text).
 */
export function mayFinish(event: string): boolean {
  const at = event.lastIndexOf(FINISH_KEY);
  if (at < 0) return false;
  let i = at + FINISH_KEY.length;
  if (event.charCodeAt(i) === SPACE) i++;
  return event.charCodeAt(i) === QUOTE;
}

/**
 * The event to store for `event`, a content chunk that arrived after
 * `earlier` (the events already stored, in order): the same text unless it
 * finishes a choice, then with `final_answer` on each finishing choice.
 */
export function withFinalAnswers(event: string, earlier: readonly string[], endpoint: Endpoint): string {
  if (!mayFinish(event)) return event;
  const data = sseData(event);
  if (data === null) return event;
  let chunk: { choices?: ChunkChoice[] };
  try {
    chunk = JSON.parse(data) as { choices?: ChunkChoice[] };
  } catch {
    return event;
  }
  const finishing = (chunk.choices ?? []).filter((c) => typeof c.finish_reason === "string");
  if (finishing.length === 0) return event;
  for (const choice of finishing) choice.final_answer = lastBoxedAnswer(tailOf(choice.index, textOf(choice, endpoint), earlier, endpoint));
  return `data: ${JSON.stringify(chunk)}`;
}

/** The text of choice `index` from its last box command on (or all of it when it has none), ending with `last`. */
function tailOf(index: number, last: string, earlier: readonly string[], endpoint: Endpoint): string {
  const pieces = [last];
  let found = BOX_COMMAND.test(last);
  let head = last;
  for (let i = earlier.length - 1; i >= 0 && !found; i--) {
    const event = earlier[i]!;
    if (!event.includes(`"index":${index}`) && !event.includes(`"index": ${index}`)) continue;
    const data = sseData(event);
    if (data === null) continue;
    let chunk: { choices?: ChunkChoice[] };
    try {
      chunk = JSON.parse(data) as { choices?: ChunkChoice[] };
    } catch {
      continue;
    }
    const own = chunk.choices?.find((c) => c.index === index);
    const text = own ? textOf(own, endpoint) : "";
    if (!text) continue;
    pieces.push(text);
    // A command can straddle two events: test the new piece with the start of what follows it
    // (`\boxed` and the letter after it are 7 characters), never the whole tail again.
    found = BOX_COMMAND.test(text + head.slice(0, 7));
    head = text + head.slice(0, 7);
  }
  return pieces.reverse().join("");
}

function textOf(choice: ChunkChoice, endpoint: Endpoint): string {
  return (endpoint === "chat" ? choice.delta?.content : choice.text) ?? "";
}
