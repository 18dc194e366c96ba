/**
 * @module tokens
 * Prompt-size estimates made without LIMO's tokenizer (the Worker cannot load
 * it). Qwen2.5's byte-level BPE averages about 4 bytes a token on English and
 * LaTeX, so a third of the UTF-8 bytes overestimates ordinary prompts. Digit
 * runs (one token a digit) can exceed it; then vLLM's own 400 for a too-long
 * prompt reaches the client unchanged.
 */

/** ChatML framing per message: `<|im_start|>`, role, newline, `<|im_end|>`. */
export const CHATML_TOKENS_PER_MESSAGE = 4;
/** `<|im_start|>assistant\n` that primes the answer. */
export const CHATML_TOKENS_ASSISTANT_PRIMER = 3;
/** Bytes per token assumed by the conservative estimate. */
export const ESTIMATE_BYTES_PER_TOKEN = 3;

const encoder = new TextEncoder();

/** UTF-8 length of a string, without allocating for pure ASCII. */
export function utf8Length(text: string): number {
  // Fast path: most prompts are ASCII, where the length is the byte count.
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return encoder.encode(text).length;
  }
  return text.length;
}

/** Conservative token estimate for a plain text prompt (completions API). */
export function estimateTextTokens(text: string): number {
  return Math.ceil(utf8Length(text) / ESTIMATE_BYTES_PER_TOKEN);
}

/** Conservative token estimate for chat messages after the ChatML template. */
export function estimateChatTokens(messages: readonly { content: string }[]): number {
  let total = CHATML_TOKENS_ASSISTANT_PRIMER;
  for (const m of messages) total += CHATML_TOKENS_PER_MESSAGE + estimateTextTokens(m.content);
  return total;
}
