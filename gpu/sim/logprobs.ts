/**
 * @module logprobs
 * Fake but well-formed log-probabilities in vLLM's two shapes (chat's
 * `content` list, completions' parallel arrays). Values are a pure function
 * of the token and its position, so a replayed answer has replayed logprobs.
 */
import { hashString } from "./prng";

/** Plausible runner-up tokens for a math answer. */
const ALTERNATIVES = [" the", " so", " we", " =", " +", " x", " is", " Let", " 2", ",", ".", " Then", " and", " of", " 1", " to"];

const encoder = new TextEncoder();

export interface TokenLogprob {
  token: string;
  logprob: number;
  /** The sampled token first, then `count` alternatives, most likely first. */
  top: { token: string; logprob: number }[];
}

/** Logprob of a sampled token and `count` alternatives, all strictly below 0. */
export function fakeLogprob(token: string, position: number, salt: string, count: number): TokenLogprob {
  const h = hashString(`${salt}\u0000${position}\u0000${token}`);
  // Confident model: most sampled tokens sit between -0.001 and -1.5.
  const logprob = -round(0.001 + (h % 1500) / 1000);
  const top: { token: string; logprob: number }[] = [];
  let alt = h % ALTERNATIVES.length;
  let next = logprob;
  while (top.length < count) {
    const candidate = ALTERNATIVES[alt % ALTERNATIVES.length] as string;
    alt++;
    if (candidate === token || top.some((t) => t.token === candidate)) continue;
    next = round(next - 0.5 - ((h >>> top.length) % 100) / 100);
    top.push({ token: candidate, logprob: next });
  }
  return { token, logprob, top };
}

/** One entry of chat's `logprobs.content`. */
export function chatLogprobEntry(lp: TokenLogprob, topCount: number) {
  const top = topCount === 0 ? [] : [{ token: lp.token, logprob: lp.logprob }, ...lp.top.slice(0, topCount - 1)];
  return {
    token: lp.token,
    logprob: lp.logprob,
    bytes: [...encoder.encode(lp.token)],
    top_logprobs: top.map((t) => ({ token: t.token, logprob: t.logprob, bytes: [...encoder.encode(t.token)] })),
  };
}

/** Completions' parallel arrays for a run of tokens starting at `textOffset`. */
export function completionLogprobs(entries: readonly TokenLogprob[], textOffset: number) {
  const text_offset: number[] = [];
  let offset = textOffset;
  for (const e of entries) {
    text_offset.push(offset);
    offset += e.token.length;
  }
  return {
    text_offset,
    token_logprobs: entries.map((e) => e.logprob),
    tokens: entries.map((e) => e.token),
    // vLLM returns the sampled token plus the `logprobs` most likely ones.
    top_logprobs: entries.map((e) => Object.fromEntries([[e.token, e.logprob], ...e.top.map((t) => [t.token, t.logprob])])),
  };
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
