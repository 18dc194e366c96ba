/**
 * @module tokenizer
 * The simulator's stand-in for Qwen's tokenizer. Output text is split into
 * tokens of one word plus its leading whitespace (JSON into finer pieces), so
 * the concatenated tokens are always exactly the text and each token is one
 * SSE chunk. Prompts are
 * counted at 4 UTF-8 bytes a token after the ChatML template: never more
 * than the Worker's conservative estimate (3 bytes a token), so a prompt the
 * Worker admits is never refused here for its length alone.
 */
import { CHATML_TOKENS_ASSISTANT_PRIMER, CHATML_TOKENS_PER_MESSAGE, utf8Length } from "../../shared/tokens";

/** Average bytes per token the simulator charges for prompt text. */
export const SIM_BYTES_PER_TOKEN = 4;

/** A word with its leading whitespace, or trailing whitespace on its own. */
const TOKEN_PATTERN = /\s*\S+|\s+/gu;

/** Splits text into tokens; `tokenize(t).join("") === t` always holds. */
export function tokenize(text: string): string[] {
  return text.match(TOKEN_PATTERN) ?? [];
}

/**
 * A word, a number or one punctuation mark, with its leading whitespace:
 * JSON has few spaces, and a real tokenizer splits `{"correct":true}` into
 * several tokens, not one.
 */
const FINE_TOKEN_PATTERN = /\s*(?:[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_])|\s+/gu;

/** Splits structured output (JSON) into token-sized pieces; `tokenizeFine(t).join("") === t`. */
export function tokenizeFine(text: string): string[] {
  return text.match(FINE_TOKEN_PATTERN) ?? [];
}

/** Tokens in a plain prompt (completions API). */
export function countTextTokens(text: string): number {
  return Math.ceil(utf8Length(text) / SIM_BYTES_PER_TOKEN);
}

/** Tokens in chat messages once the ChatML template is applied. */
export function countChatTokens(contents: readonly string[]): number {
  let total = CHATML_TOKENS_ASSISTANT_PRIMER;
  for (const content of contents) total += CHATML_TOKENS_PER_MESSAGE + countTextTokens(content);
  return total;
}
