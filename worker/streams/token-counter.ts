/**
 * @module token-counter
 * How many completion tokens each backend event carried, for partial billing
 * (a stream the client left, a backend that failed midway), and the event as
 * the client sees it.
 *
 * The Worker asks vLLM for `stream_options.continuous_usage_stats`: then every
 * chunk of a choice carries `"usage":{"prompt_tokens":P,"total_tokens":T,
 * "completion_tokens":C}` with C the choice's tokens so far, this chunk's
 * included (vllm/entrypoints/openai/chat_completion/serving.py,
 * `previous_num_tokens[i]`). That count is exact however many tokens an event
 * holds, which vLLM's `--stream-interval N` (gpu/modal_app.py) makes N. The
 * usage is then cut from the event: OpenAI's clients expect `usage` on the
 * final usage chunk only (LangChain adds up every chunk's), and the fast
 * readers (content-chunk, stream-events) see vLLM's ordinary chunk.
 *
 * A backend that sends no continuous usage (another OpenAI-compatible server)
 * is counted as before: one token per chunk whose text is not empty.
 *
 * The final usage chunk (`"choices":[]`) is left as it is, with no tokens of
 * its own: it is the count of the whole answer. Inside a JSON string every quote is escaped, so an
 * unescaped `,"usage":{` is the chunk's own key.
 */

import { sseData } from "../../shared/sse";

const USAGE_KEY = ',"usage":{';
const INDEX_KEY = '"choices":[{"index":';
const COMPLETION_TOKENS = /"completion_tokens":(\d+)/;

/** One event read: as the client sees it, and the tokens it carried. */
export interface CountedEvent {
  event: string;
  tokens: number;
}

/** The rule for an event without continuous usage: a chunk with text is one token. */
export function fallbackTokens(event: string): number {
  return event.includes(':""') ? 0 : 1;
}

/** Counts one generation's events (one counter per backend stream: the counts are cumulative per choice). */
export class TokenCounter {
  /** Tokens each choice had, per the last usage seen. */
  readonly #sent: number[] = [];

  /** A backend event: the tokens it carried, and the event without its continuous usage (anything but a JSON chunk carries none). */
  count(event: string): CountedEvent {
    if (!event.startsWith("data: {") || event.includes('"choices":[]')) return { event, tokens: 0 };
    const at = event.lastIndexOf(USAGE_KEY);
    if (at === -1) return { event, tokens: fallbackTokens(event) };
    const close = event.indexOf("}", at);
    // vLLM's usage object is flat; anything else (nested details, odd spacing) is read in full.
    const flat = close !== -1 && event.lastIndexOf("{", close) === at + USAGE_KEY.length - 1;
    const completion = flat ? COMPLETION_TOKENS.exec(event.slice(at, close)) : null;
    const choice = completion === null ? null : this.#choiceIndex(event);
    if (completion === null || choice === null) return this.#parsed(event);
    return { event: event.slice(0, at) + event.slice(close + 1), tokens: this.#add(choice, Number(completion[1])) };
  }

  /** The tokens a choice's new running total adds (never negative: a count does not go back). */
  #add(choice: number, total: number): number {
    const before = this.#sent[choice] ?? 0;
    this.#sent[choice] = Math.max(total, before);
    return Math.max(0, total - before);
  }

  /** The slow path: the event parsed, its usage taken out, written again. */
  #parsed(event: string): CountedEvent {
    const data = sseData(event);
    let chunk: { choices?: { index?: unknown }[]; usage?: { completion_tokens?: unknown } | null } | null = null;
    try {
      chunk = data === null ? null : JSON.parse(data);
    } catch {
      chunk = null;
    }
    if (chunk === null || typeof chunk !== "object" || !("usage" in chunk)) return { event, tokens: fallbackTokens(event) };
    const total = chunk.usage?.completion_tokens;
    const index = chunk.choices?.length === 1 ? chunk.choices[0]?.index : undefined;
    delete chunk.usage;
    const tokens = typeof total === "number" && typeof index === "number" ? this.#add(index, total) : fallbackTokens(event);
    return { event: `data: ${JSON.stringify(chunk)}`, tokens };
  }

  /** The index of the event's only choice (vLLM writes one per chunk), or null when it is not that shape. */
  #choiceIndex(event: string): number | null {
    const at = event.indexOf(INDEX_KEY);
    if (at === -1) return null;
    let i = at + INDEX_KEY.length;
    let index = 0;
    const start = i;
    for (let c = event.charCodeAt(i); c >= 48 && c <= 57; c = event.charCodeAt(++i)) index = index * 10 + (c - 48);
    if (i === start || i - start > 9) return null;
    // A second choice in the same chunk: the usage cannot be split between them.
    if (event.indexOf('{"index":', i) !== -1) return null;
    return index;
  }
}
