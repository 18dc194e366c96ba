/**
 * @module normalize
 * Rewrites an answer into one canonical LaTeX spelling, recording what it
 * dropped so the checker can still use it: a unit ("cm", "apples", a trailing
 * `\text{ inches}^2`), degrees (`^\circ`), percent (`\%`) and money (`\$`).
 * Unlike LIMO's `strip_string` it removes nothing that can change the value:
 * no single letters (LIMO deletes "a", "t", "h", ... anywhere as unit words),
 * no "and" inside words, no parentheses, so `2(x+1)` never becomes `2x+1`.
 */
import { readGroup } from "./latex";
import { parseNumberWords, type NumberWords } from "./words";

/** What normalisation kept and what it set aside. */
export interface Normalized {
  /** Canonical LaTeX without insignificant spaces (one space kept where `\pi r` needs it). */
  text: string;
  /** The same before spaces were removed: word answers compare on it. */
  spaced: string;
  percent: boolean;
  degrees: boolean;
  money: boolean;
  /** Unit words removed from the end, lower case and singular ("inch^2"), or null. */
  unit: string | null;
}

const UNICODE: [RegExp, string][] = [
  [/[−–—]/g, "-"], [/×/g, "\\times "], [/÷/g, "\\div "], [/[·⋅]/g, "\\cdot "], [/π/g, "\\pi "],
  [/√/g, "\\sqrt"], [/∞/g, "\\infty "], [/°/g, "^\\circ"], [/≤/g, "\\le "], [/≥/g, "\\ge "],
  [/≠/g, "\\ne "], [/∪/g, "\\cup "], [/±/g, "\\pm "], [/½/g, "\\frac{1}{2}"], [/⅓/g, "\\frac{1}{3}"],
  [/⅔/g, "\\frac{2}{3}"], [/¼/g, "\\frac{1}{4}"], [/¾/g, "\\frac{3}{4}"], [/²/g, "^2"], [/³/g, "^3"],
];

const SPACING = /(?<!\\)\\[!,;:> ]|\\q?quad(?![A-Za-z])|~|\\displaystyle|\\(?:big|Big|bigg|Bigg)[lr]?(?![A-Za-z])|\\(?:left|right)(?![A-Za-z])\.?/g;
const DEGREES = /\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree(?![A-Za-z])|\s*\\(?:text|mbox|mathrm)\s*\{\s*degrees?\s*\}|\s*\bdegrees?\b/g;
const PERCENT = /\\%|%|\s*\\(?:text|mbox)\s*\{\s*percent\s*\}|\s*\bpercent\b/g;
const TEXT_COMMANDS = /\\(?:text|textbf|textrm|textit|textnormal|mathrm|mathbf|mathit|mbox|operatorname)\s*(?=\{)/g;

// Units whose words may follow a number ("5 cm", "12 apples" is handled by the generic rule below).
const SHORT_UNITS = new Set(["m", "cm", "mm", "km", "g", "kg", "mg", "s", "ms", "h", "hr", "min", "ft", "in", "yd", "mi", "l", "ml", "lb", "oz", "mph", "kmh"]);
// Words that belong to the maths, never a unit: "5 and 6", "x or y", "2 pi", "3 sqrt 2".
const NOT_UNITS = new Set(["and", "or", "pi", "sqrt", "i", "e", "infty", "infinity", "inf", "of", "is", "to", "for", "x", "y", "z", "n", "k", "r"]);

/** The canonical form of one answer (see the module doc). */
export function normalizeAnswer(raw: string): Normalized {
  let s = raw;
  for (const [from, to] of UNICODE) s = s.replace(from, to);
  s = s.trim().replace(/\n/g, " ");
  s = unwrapMath(s);
  s = unwrapBox(s);
  let money = false;
  if (/\\\$|(?:^|\s)\$(?=\d)/.test(s)) money = true;
  s = s.replace(/\\\$/g, "").replace(/\$/g, "");
  // Thousands written the TeX way: `10,\!080`, `1{,}000`, `11,\! 111`.
  s = s.replace(/(\d),\\!\s*(?=\d{3}(?!\d))/g, "$1,").replace(/(\d)\{,\}(?=\d{3}(?!\d))/g, "$1,");
  s = s.replace(SPACING, " ");
  s = s.replace(/\\[dt]frac(?![A-Za-z])/g, "\\frac").replace(/\\[dt]binom(?![A-Za-z])/g, "\\binom");
  s = s.replace(/\\(?:leqslant|leq)(?![A-Za-z])/g, "\\le").replace(/\\(?:geqslant|geq)(?![A-Za-z])/g, "\\ge").replace(/\\neq(?![A-Za-z])/g, "\\ne");
  s = s.replace(/\\(?:varnothing|emptyset)(?![A-Za-z])/g, "\\emptyset");
  s = s.replace(/\\infinity|(?<![A-Za-z\\])(?:infinity|inf)(?![A-Za-z])/g, "\\infty");
  s = s.replace(/\\dots|\\ldots|\\cdots/g, "\\dots");
  s = ascii(s);
  s = s.replace(/\\mathbb\s*\{?R\}?|\ball real numbers\b/g, "(-\\infty,\\infty)");
  s = fixArguments(s);
  let degrees = false;
  // Inside a trigonometric function the degree sign is part of the argument: the CAS reads it.
  if (!/\\(?:sin|cos|tan|cot|sec|csc)(?![A-Za-z])/.test(s)) s = s.replace(DEGREES, () => {
    degrees = true;
    return "";
  });
  let percent = false;
  s = s.replace(PERCENT, () => {
    percent = true;
    return "";
  });
  let unit: string | null = null;
  ({ text: s, unit } = stripTextUnit(s));
  s = s.replace(TEXT_COMMANDS, "\\text");
  s = unwrapText(s);
  if (/\bdollars?\b/.test(s)) money = true;
  s = s.replace(/\s*\b(?:dollars?|cents?)\b/g, (w) => {
    if (/cent/.test(w)) unit = unit ?? "cent";
    return "";
  });
  if (unit === null) {
    const u = stripPlainUnit(s);
    s = u.text;
    unit = u.unit;
  }
  s = s.trim().replace(/[.,;]+$/, "").trim();
  // "eight", "one half": an answer written in words is that number.
  const words = /^[A-Za-z -]+$/.test(s) ? parseNumberWords(s) : [];
  if (words.length === 1 && (words[0] as NumberWords).start === 0 && (words[0] as NumberWords).end === s.length) s = (words[0] as NumberWords).latex;
  // `1,000` is a thousand only when it is the whole answer; `1, 000` (and a comma in a list) separates items.
  if (/^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/,/g, "");
  const spaced = s.replace(/\s+/g, " ");
  return { text: squeeze(spaced), spaced, percent, degrees, money, unit };
}

const ASCII_FUNCTIONS = /(?<![A-Za-z\\])(sin|cos|tan|cot|sec|csc|ln|log|exp|arcsin|arccos|arctan|pi)(?![A-Za-z])/g;

// What a student types without LaTeX: `sqrt(2)`, `pi/2`, `2*pi`, `x**2`.
function ascii(s: string): string {
  let out = s.replace(/\*\*/g, "^").replace(/(?<!\\)\*/g, "\\cdot ").replace(ASCII_FUNCTIONS, "\\$1 ");
  for (let at = out.search(/(?<![A-Za-z\\])sqrt\s*\(/); at >= 0; at = out.search(/(?<![A-Za-z\\])sqrt\s*\(/)) {
    const open = out.indexOf("(", at);
    let depth = 0;
    let close = -1;
    for (let i = open; i < out.length && close < 0; i++) {
      if (out[i] === "(") depth++;
      else if (out[i] === ")" && --depth === 0) close = i;
    }
    if (close < 0) break;
    out = `${out.slice(0, at)}\\sqrt{${out.slice(open + 1, close)}}${out.slice(close + 1)}`;
  }
  return out;
}

function unwrapMath(s: string): string {
  for (;;) {
    const m = /^\$\$([\s\S]*)\$\$$|^\$([\s\S]*)\$$|^\\\(([\s\S]*)\\\)$|^\\\[([\s\S]*)\\\]$/.exec(s);
    if (!m) return s;
    s = (m[1] ?? m[2] ?? m[3] ?? m[4] ?? "").trim();
  }
}

function unwrapBox(s: string): string {
  const m = /^\\(?:boxed|fbox)\s*\{/.exec(s);
  if (!m) return s;
  const g = readGroup(s, m[0].length - 1);
  return g && g.end === s.length ? unwrapBox(g.content.trim()) : s;
}

// `\frac12` -> `\frac{1}{2}`, `\frac1{72}`, `\sqrt2` -> `\sqrt{2}`, `\binom52`.
function fixArguments(s: string): string {
  let out = "";
  let i = 0;
  const command = /\\(frac|binom|sqrt)(?![A-Za-z])/g;
  for (let m = command.exec(s); m; m = command.exec(s)) {
    out += s.slice(i, m.index) + m[0];
    let at = m.index + m[0].length;
    const arity = m[1] === "sqrt" ? 1 : 2;
    // `\sqrt66` is read as LIMO's `_fix_sqrt` reads it, the whole number under the root.
    const digits = m[1] === "sqrt" ? /^\s*(\d+)/.exec(s.slice(at)) : null;
    if (digits) {
      out += `{${digits[1]}}`;
      i = at + digits[0].length;
      command.lastIndex = i;
      continue;
    }
    if (m[1] === "sqrt") {
      const opt = /^\s*\[[^\]]*\]/.exec(s.slice(at));
      if (opt) {
        out += opt[0].trim();
        at += opt[0].length;
      }
    }
    for (let k = 0; k < arity; k++) {
      const g = readGroup(s, at);
      if (!g) break;
      out += `{${g.content}}`;
      at = g.end;
    }
    i = at;
    command.lastIndex = at;
  }
  return out + s.slice(i);
}

// A trailing `\text{ cm}^2` / `\mbox{ inches}` after something else is a unit (LIMO strips it too).
function stripTextUnit(s: string): { text: string; unit: string | null } {
  const m = /^(.*\S)\s*\\(?:text|mbox|textrm|mathrm)\s*\{\s*([A-Za-z][A-Za-z .]*?)\s*\}\s*(\^\s*\{?\s*[23]\s*\}?)?$/.exec(s);
  if (!m || !/[\d}]/.test(m[1] as string)) return { text: s, unit: null };
  const word = unitWord(m[2] as string, m[3]);
  if (word === null) return { text: s, unit: null };
  return { text: m[1] as string, unit: word };
}

function unwrapText(s: string): string {
  let out = "";
  let i = 0;
  for (let at = s.indexOf("\\text{", i); at >= 0; at = s.indexOf("\\text{", i)) {
    const g = readGroup(s, at + 5);
    if (!g) break;
    out += s.slice(i, at) + g.content;
    i = g.end;
  }
  return out + s.slice(i);
}

// "864 inches^2", "5.4 cents", "12 apples": a number, then words that are not maths.
function stripPlainUnit(s: string): { text: string; unit: string | null } {
  const m = /^(.*?[\d}])\s*((?:[A-Za-z]+\.?\s*)+?)\s*(\^\s*\{?\s*[23]\s*\}?)?$/.exec(s.trim());
  if (!m) return { text: s, unit: null };
  const prefix = m[1] as string;
  if (/[A-Za-z]/.test(prefix.replace(/\\(?:frac|sqrt|pi|cdot|times)/g, ""))) return { text: s, unit: null };
  if (/\\[A-Za-z]*$/.test(prefix)) return { text: s, unit: null };
  const word = unitWord(m[2] as string, m[3]);
  return word === null ? { text: s, unit: null } : { text: prefix, unit: word };
}

function unitWord(words: string, power: string | undefined): string | null {
  const w = words.trim().toLowerCase().replace(/\.$/, "");
  const parts = w.split(/\s+/);
  if (parts.some((p) => NOT_UNITS.has(p))) return null;
  if (parts.length === 1 && (parts[0] as string).length < 3 && !SHORT_UNITS.has(parts[0] as string)) return null;
  const singular = parts.map((p) => alias(singularOf(p))).join(" ");
  // "square inches" is inch^2, "cubic feet" foot^3.
  const powered = singular.replace(/^(?:square|sq) (.+)$/, "$1^2").replace(/^cubic (.+)$/, "$1^3");
  const exponent = power ? `^${power.replace(/[^\d]/g, "")}` : "";
  return powered + exponent;
}

// Abbreviations and plurals of one unit spelled one way ("in", "inches" -> "inch").
const UNIT_ALIASES: Record<string, string> = {
  in: "inch", inches: "inch", ft: "foot", feet: "foot", foots: "foot", yd: "yard", mi: "mile", hr: "hour", h: "hour", min: "minute",
  s: "second", sec: "second", m: "meter", metre: "meter", cm: "centimeter", mm: "millimeter", km: "kilometer", g: "gram",
  kg: "kilogram", l: "liter", litre: "liter", lb: "pound", oz: "ounce",
};

function singularOf(p: string): string {
  if (UNIT_ALIASES[p] !== undefined || p.length <= 3) return p;
  if (/(?:ch|sh|x)es$/.test(p)) return p.slice(0, -2);
  return p.endsWith("s") ? p.slice(0, -1) : p;
}

function alias(word: string): string {
  return UNIT_ALIASES[word] ?? word;
}

// Spaces carry no meaning in LaTeX maths except after a control word before a letter (`\pi r`).
function squeeze(s: string): string {
  return s.replace(/(\\[A-Za-z]+)?\s+(?=(.))/g, (all, word: string | undefined, next: string) =>
    word !== undefined ? word + (/[A-Za-z]/.test(next) ? " " : "") : "",
  ).replace(/\s+$/, "");
}
