/**
 * @module extract
 * The final answer of a solution, as LIMO's evaluation reads it
 * (GAIR-NLP/LIMO `eval/utils/parser.py` `extract_answer`, itself Qwen2.5-Math's):
 * the content of the last `\boxed{...}` with braces matched. We also read
 * `\fbox{...}` and `\boxed x` without braces (up to the next `$`, as LIMO's
 * parser does), and return null where LIMO returns garbage or "": no box, an
 * unclosed box (a cut answer), an empty box.
 *
 * `extractAnswer` adds the fallbacks of Qwen2.5-Math's `extract_answer` for
 * text without a box ("final answer is $...$. I hope", "the answer is ...",
 * the last number) and makes them fit a student's free text: the last inline
 * formula, a reply that is itself a formula ("x = 0.5"), then the last number
 * ("I got 12 apples" gives "12"), then number words ("twelve"). The last-number
 * fallback only applies to short replies: a long reasoning without a box is a
 * cut answer, and its last number is not an answer (null).
 */
import { matchBrace } from "./latex";
import { parseNumberWords } from "./words";

/** A reply longer than this needs a box or an answer phrase ("the answer is") to have an answer. */
export const MAX_FREE_TEXT_CHARS = 280;

const BOX_COMMAND = /\\(?:boxed|fbox)(?![A-Za-z])/g;

/**
 * The content of the last `\boxed{...}` or `\fbox{...}` of `text`, braces
 * matched; `\boxed x` without braces gives the text up to the next `$` (or
 * line end, `\]`, `\)`). Null when there is no box, the last box never closes
 * (a cut answer), or it is empty.
 */
export function lastBoxedAnswer(text: string): string | null {
  let at = -1;
  let after = -1;
  for (const m of text.matchAll(BOX_COMMAND)) {
    at = m.index;
    after = m.index + m[0].length;
  }
  if (at < 0) return null;
  let i = after;
  while (i < text.length && /\s/.test(text[i] as string)) i++;
  let content: string;
  if (text[i] === "{") {
    const close = matchBrace(text, i);
    if (close < 0) return null;
    content = text.slice(i + 1, close);
  } else {
    content = (/^[^$\n]*?(?=\$|\n|\\\]|\\\)|$)/.exec(text.slice(i)) as RegExpExecArray)[0];
  }
  return content.trim() === "" ? null : content;
}

/**
 * LIMO's full rule: the last box (tidied as LIMO tidies it: line breaks
 * joined, a leading ":" and a trailing "." or "/" dropped), else the
 * fallbacks for answers without one (see the module doc). Null when the text
 * has no answer: none of the fallbacks apply, or the last box is unclosed.
 */
export function extractAnswer(text: string): string | null {
  const boxed = lastBoxedAnswer(text);
  if (boxed !== null) return tidy(boxed);
  // An unclosed last box is a cut answer: any number before it is reasoning, not the answer.
  if (new RegExp(BOX_COMMAND.source).test(text)) return null;
  const minerva = /final answer is \$(.*?)\$\. I hope/s.exec(text);
  if (minerva) return nonEmpty(tidy(minerva[1] as string));
  const phrase = answerPhrase(text);
  if (phrase !== null) return phrase;
  if (text.length > MAX_FREE_TEXT_CHARS) return null;
  return freeTextAnswer(text);
}

function tidy(answer: string): string {
  let a = answer.replace(/\n\s*/g, "");
  if (a.startsWith(":")) a = a.slice(1);
  if (a.endsWith(".")) a = a.slice(0, -1);
  if (a.endsWith("/")) a = a.slice(0, -1);
  return a.trim();
}

function nonEmpty(s: string): string | null {
  return s === "" ? null : s;
}

// "the answer is", "final answer:", "answer = ", as Qwen2.5-Math's "he answer is" / "final answer is" fallbacks.
const ANSWER_PHRASE = /\b(?:final\s+answer|answer)\s*(?:is|:|=)\s*(?:that\s+)?/gi;

function answerPhrase(text: string): string | null {
  let from = -1;
  for (const m of text.matchAll(ANSWER_PHRASE)) from = m.index + m[0].length;
  if (from < 0) return null;
  // The rest of that sentence: up to a line break, a sentence-ending period, or a reason.
  const rest = text.slice(from);
  const stop = /\n|\.(?=\s|$)|;|,?\s+(?:because|since|as|so|which)\b/.exec(rest);
  const sentence = stop ? rest.slice(0, stop.index) : rest;
  return sentence.trim() === "" ? null : freeTextAnswer(sentence);
}

const INLINE_MATH = /\$\$([^$]+)\$\$|\$([^$]+)\$|\\\(([\s\S]+?)\\\)|\\\[([\s\S]+?)\\\]/g;
// Words that may stand in a formula written as plain text ("x = 1 or x = 2", "3 pi").
const FORMULA_WORDS = new Set(["and", "or", "pi", "sqrt", "i", "infinity", "inf"]);
const NUMBER_TOKEN = /[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*\/\s*\d+(?:\.\d+)?)?\s*(?:\\?%)?|[-−]?\.\d+/g;

function freeTextAnswer(text: string): string | null {
  let formula: string | null = null;
  for (const m of text.matchAll(INLINE_MATH)) formula = (m[1] ?? m[2] ?? m[3] ?? m[4]) as string;
  if (formula !== null) return nonEmpty(tidy(formula));
  const whole = text.trim().replace(/[.!]+$/, "").trim();
  if (whole !== "" && isFormula(whole)) return whole;
  let last: string | null = null;
  for (const m of whole.matchAll(NUMBER_TOKEN)) last = m[0].trim();
  if (last !== null) return last.replace(/−/g, "-");
  const words = parseNumberWords(whole);
  return words.length > 0 ? (words[words.length - 1] as { latex: string }).latex : null;
}

function isFormula(text: string): boolean {
  if (/[?]/.test(text)) return false;
  const words = text.replace(/\\[A-Za-z]+/g, " ").match(/[A-Za-z]{2,}/g) ?? [];
  return words.every((w) => FORMULA_WORDS.has(w.toLowerCase()));
}
