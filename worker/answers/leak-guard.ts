/**
 * @module leak-guard
 * The leak guard on a stream: fed text chunks, it releases text only up to a
 * point where no span could still grow into a leak, and redacts the leaks in
 * what it releases. It holds back an open formula (`$`, `\(`, `\[`, an
 * environment), an open brace group (`\boxed{`, `\frac{1}{`), an open bracket
 * (a tuple being written), and the last few words when they could still
 * become a number ("0." before "5", "one" before "half", "1 /" before "2").
 * A held-back region longer than `MAX_HELD_CHARS` is released anyway (its
 * numbers and fragments are still checked one by one), so a stray `$` cannot
 * stall a stream.
 */
import { DEFAULT_BATCH_WORK_UNITS, WorkBudget } from "./budget";
import { findAnswerLeaks, redactLeaks, type Leak, type LeakOptions } from "./leaks";
import { isEscaped } from "./latex";

/** The longest text the guard holds back while waiting for a formula or group to close. */
export const MAX_HELD_CHARS = 2048;
/** What a redacted leak becomes in the released text. */
export const DEFAULT_REDACTION = "[answer withheld]";
/** Trailing words examined for a number still being written. */
const MAX_TAIL_TOKENS = 8;

export interface LeakGuardOptions extends LeakOptions {
  /** Replacement for a leak (default `DEFAULT_REDACTION`). */
  replacement?: string;
}

// Words that may stand inside a number or list still being written: "one hundred and five", "3, 5 or 7", "50 percent".
const JOINERS = new Set(["and", "or", "a", "an", "minus", "negative", "point", "over", "percent"]);
const NUMBER_WORD = /^(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|half|halves|thirds?|quarters?|fourths?|fifths?|sixths?|sevenths?|eighths?|ninths?|tenths?)$/i;

const GROWING_WORDS = [...JOINERS, ...NUMBER_WORD.source.replace(/^\^\(\?:|\)\$$/g, "").split("|").map((w) => w.replace(/s\?$/, "s").replace(/\?/g, ""))];

/** Guards one stream of text against one reference answer. */
export class LeakGuard {
  readonly #reference: string;
  readonly #options: LeakGuardOptions;
  readonly #budget: WorkBudget;
  #pending = "";
  #offset = 0;
  readonly #leaks: Leak[] = [];

  constructor(reference: string, options: LeakGuardOptions = {}) {
    this.#reference = reference;
    this.#options = options;
    this.#budget = options.budget ?? new WorkBudget(options.workUnits ?? DEFAULT_BATCH_WORK_UNITS, options.clock);
  }

  /** Adds a chunk; returns the text that is safe to send now, leaks redacted. */
  async push(chunk: string): Promise<string> {
    this.#pending += chunk;
    return this.#release(stableLength(this.#pending));
  }

  /** The stream ended: releases (and redacts) everything held back. */
  async end(): Promise<string> {
    return this.#release(this.#pending.length);
  }

  /** The leaks redacted so far, with offsets in the whole stream. */
  get leaks(): readonly Leak[] {
    return this.#leaks;
  }

  /** Characters held back now. */
  get held(): number {
    return this.#pending.length;
  }

  async #release(length: number): Promise<string> {
    if (length <= 0) return "";
    const segment = this.#pending.slice(0, length);
    this.#pending = this.#pending.slice(length);
    const leaks = await findAnswerLeaks(segment, this.#reference, { ...this.#options, budget: this.#budget });
    for (const l of leaks) this.#leaks.push({ ...l, start: l.start + this.#offset, end: l.end + this.#offset });
    this.#offset += length;
    return redactLeaks(segment, leaks, this.#options.replacement ?? DEFAULT_REDACTION);
  }
}

/** How much of `text` can be released: up to the first open construct and before a tail that may still grow. */
export function stableLength(text: string): number {
  const open = firstOpen(text);
  const cut = Math.min(open, tailStart(text));
  // A construct held too long is released anyway; its contents are still checked piece by piece.
  if (text.length - cut > MAX_HELD_CHARS) return Math.max(cut, text.length - MAX_HELD_CHARS);
  return cut;
}

// Index of the earliest formula, brace group or bracket that is still open (text.length when none).
function firstOpen(text: string): number {
  const stack: { at: number; close: string }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    const top = stack[stack.length - 1];
    if (c === "\\" && /^\\end\{/.test(text.slice(i)) && top?.close === "\\end") {
      const end = text.indexOf("}", i);
      if (end < 0) break;
      stack.pop();
      i = end;
      continue;
    }
    if (top && text.startsWith(top.close, i) && top.close !== "\\end" && !(c !== "\\" && isEscaped(text, i))) {
      stack.pop();
      i += top.close.length - 1;
      continue;
    }
    if (c === "$" && !isEscaped(text, i)) {
      const double = text[i + 1] === "$";
      stack.push({ at: i, close: double ? "$$" : "$" });
      if (double) i++;
    } else if (c === "\\" && (text[i + 1] === "(" || text[i + 1] === "[") && !isEscaped(text, i)) {
      stack.push({ at: i, close: text[i + 1] === "(" ? "\\)" : "\\]" });
      i++;
    } else if (c === "\\" && /^\\begin\{/.test(text.slice(i))) {
      stack.push({ at: i, close: "\\end" });
    } else if (c === "{" && !isEscaped(text, i)) stack.push({ at: i, close: "}" });
    else if ((c === "(" || c === "[") && !isEscaped(text, i)) stack.push({ at: i, close: c === "(" ? ")" : "]" });
    else if ((c === ")" || c === "]") && top?.close !== c) {
      // A half-open interval `(3, 4]` closes with the other bracket.
      if (top && (top.close === ")" || top.close === "]")) stack.pop();
    }
  }
  return stack.length > 0 ? (stack[0] as { at: number }).at : text.length;
}

// Start of the trailing words that could still grow into (or be part of) a number.
function tailStart(text: string): number {
  const tokens = [...text.matchAll(/\S+/g)];
  if (tokens.length === 0) return text.length;
  const last = tokens[tokens.length - 1] as RegExpMatchArray;
  const endsInSpace = (last.index as number) + last[0].length < text.length;
  let start = endsInSpace ? text.length : (last.index as number);
  for (let k = tokens.length - 1, n = 0; k >= 0 && n < MAX_TAIL_TOKENS; k--, n++) {
    const t = tokens[k] as RegExpMatchArray;
    // Punctuation on either side is not part of the word: "(fifty" may still become "(fifty percent)".
    const word = t[0].replace(/[.,;:!?)\]]+$/, "").replace(/^[([{"'“‘]+/, "").toLowerCase();
    // The last word may be cut: "p" may become "percent", "ha" "half".
    const partial = k === tokens.length - 1 && !endsInSpace && /^[a-z]+$/.test(word) && GROWING_WORDS.some((w) => w.startsWith(word));
    const numeric = partial || /[\d\\$%/=^_{}+\-−]/.test(t[0]) || NUMBER_WORD.test(word) || JOINERS.has(word);
    if (!numeric) break;
    start = t.index as number;
  }
  return start;
}
