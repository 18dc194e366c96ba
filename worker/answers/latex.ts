/**
 * @module latex
 * Small scanners over LaTeX source shared by extraction, normalisation and the
 * leak guard: matched braces (an escaped `\{` or `\}` is a literal, not a
 * group), a command's argument group, and top-level splitting that ignores
 * separators nested inside any bracket. Pure string work, no parser.
 */

/** True when the character at `i` is escaped by an odd run of backslashes. */
export function isEscaped(text: string, i: number): boolean {
  let n = 0;
  for (let j = i - 1; j >= 0 && text[j] === "\\"; j--) n++;
  return n % 2 === 1;
}

/**
 * Index of the `}` closing the `{` at `open`, or -1 when the group never
 * closes (a cut answer). Escaped braces do not count.
 */
export function matchBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if ((c === "{" || c === "}") && isEscaped(text, i)) continue;
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** A command argument: the text inside `{...}`, or one token when unbraced (`\frac12`). */
export interface Group {
  /** The argument without its braces. */
  content: string;
  /** Index just past the argument. */
  end: number;
}

/**
 * Reads one TeX argument starting at `from` (spaces skipped): a braced group,
 * a control word (`\pi`), or a single character. Null at the end of the text
 * or on an unclosed group.
 */
export function readGroup(text: string, from: number): Group | null {
  let i = from;
  while (i < text.length && text[i] === " ") i++;
  if (i >= text.length) return null;
  if (text[i] === "{") {
    const close = matchBrace(text, i);
    return close < 0 ? null : { content: text.slice(i + 1, close), end: close + 1 };
  }
  if (text[i] === "\\") {
    const word = /^\\(?:[A-Za-z]+|.)/.exec(text.slice(i));
    return word ? { content: word[0], end: i + word[0].length } : null;
  }
  return { content: text[i] as string, end: i + 1 };
}

const OPENERS = new Set(["(", "[", "{"]);
const CLOSERS = new Set([")", "]", "}"]);

/**
 * Splits at `separator` where it stands outside every bracket. Brackets are
 * counted without matching their kinds, so a half-open interval `(3,4]` nests
 * as one level. `\{`/`\}` and `\left(` count like their plain forms.
 */
export function splitTopLevel(text: string, separator: string | RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (OPENERS.has(c)) depth++;
    else if (CLOSERS.has(c)) depth = Math.max(0, depth - 1);
    else if (depth === 0) {
      const len = separatorAt(text, i, separator);
      if (len > 0) {
        parts.push(text.slice(start, i));
        start = i + len;
        i += len - 1;
      }
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function separatorAt(text: string, i: number, separator: string | RegExp): number {
  if (typeof separator === "string") return text.startsWith(separator, i) ? separator.length : 0;
  const m = new RegExp(separator.source, "y" + separator.flags.replace(/[gy]/g, ""));
  m.lastIndex = i;
  const hit = m.exec(text);
  return hit ? Math.max(hit[0].length, 0) : 0;
}

/** True when `text` is one bracketed group from its first to its last character. */
export function isWrapped(text: string): boolean {
  if (text.length < 2 || !OPENERS.has(text[0] as string) || !CLOSERS.has(text[text.length - 1] as string)) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (OPENERS.has(c)) depth++;
    else if (CLOSERS.has(c)) {
      depth--;
      if (depth === 0 && i < text.length - 1) return false;
    }
  }
  return depth === 0;
}
