/**
 * @module shape
 * What kind of answer a normalised string is: a multiple-choice letter, a
 * matrix, a bracketed tuple or interval (order matters), a union of intervals
 * or an unordered list or set (roots, `\{1,2\}`, `1 \pm \sqrt2`), an equation,
 * an inequality (read as an interval), a word answer, or one scalar
 * expression. The checker compares shapes part by part and leaves only
 * scalars to the number and CAS steps.
 */
import { isWrapped, splitTopLevel } from "./latex";
import type { Normalized } from "./normalize";

export type Shape =
  | { kind: "choice"; letter: string; text: string | null }
  | { kind: "matrix"; rows: Shape[][] }
  | { kind: "bracketed"; open: "(" | "["; close: ")" | "]"; items: Shape[] }
  | { kind: "union"; parts: Shape[] }
  | { kind: "set"; items: Shape[] }
  | { kind: "equation"; lhs: string; rhs: string }
  | { kind: "text"; words: string }
  | { kind: "scalar"; text: string };

/** Nesting deeper than this is not an answer anyone writes; it is parsed as one scalar. */
const MAX_SHAPE_DEPTH = 4;
/** A list or matrix with more parts than this is left to string comparison. */
export const MAX_SHAPE_ITEMS = 64;

// "(A)", "(A) 5", "**(A)**"; and a bare "A", "A.", "A)", "A: 5".
const CHOICE_PAREN = /^(?:\*\*)?\(([A-Ea-e])\)(?:\*\*)?\s*(.*)$/;
const CHOICE_BARE = /^(?:\*\*)?([A-E])(?:\*\*)?(?:[.:)]\s*(.*))?$/;
// Words joined by single spaces, hyphens or apostrophes ("Evelyn", "no change", "x-axis"); "p - q" is maths.
const TEXT = /^[A-Za-z]+(?:[ '-][A-Za-z]+)*$/;
const MATRIX = /^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^}]*\})?(.*)\\end\{\1\}$/s;
const SINGLE_VARIABLE = /^(?:[A-Za-z]|\\[A-Za-z]+|[A-Za-z]_\{?\w+\}?)$/;
const RELATION = /\\le|\\ge|<|>/;

/** The shape of one normalised answer. */
export function parseShape(n: Normalized): Shape {
  const choice = CHOICE_PAREN.exec(n.spaced) ?? CHOICE_BARE.exec(n.spaced);
  if (choice) {
    const rest = (choice[2] ?? "").trim();
    return { kind: "choice", letter: (choice[1] as string).toUpperCase(), text: rest === "" ? null : squeezeSpaces(rest) };
  }
  if (TEXT.test(n.spaced) && (/[A-Za-z]{3}/.test(n.spaced) || /^no$/i.test(n.spaced)) && !/^(?:and|or)$/i.test(n.spaced)) {
    return { kind: "text", words: n.spaced.toLowerCase().replace(/^(?:the|an?)\s+/, "") };
  }
  const words = n.spaced.replace(/\s*(?<![A-Za-z\\])(?:and|or)(?![A-Za-z])\s*/g, ",");
  return shapeOf(squeezeSpaces(words), 0);
}

function squeezeSpaces(s: string): string {
  return s.replace(/(\\[A-Za-z]+)?\s+(?=(.))/g, (_all, word: string | undefined, next: string) =>
    word !== undefined ? word + (/[A-Za-z]/.test(next) ? " " : "") : "",
  ).trim();
}

function shapeOf(raw: string, depth: number): Shape {
  let s = raw.trim().replace(/^,+|,+$/g, "");
  if (depth > MAX_SHAPE_DEPTH) return { kind: "scalar", text: s };
  if (s === "\\emptyset" || s === "\\{\\}" || s === "{}") return { kind: "set", items: [] };
  s = s.replace(/^(?:[A-Za-z]|\\[A-Za-z]+)\\in(?![A-Za-z])/, "");
  const matrix = MATRIX.exec(s);
  if (matrix) return matrixOf(matrix[2] as string, depth);
  const unionParts = splitTopLevel(s, /\\cup(?![A-Za-z])/);
  if (unionParts.length > 1) return { kind: "union", parts: unionParts.map((p) => shapeOf(p, depth + 1)) };
  if (s.startsWith("\\{") && s.endsWith("\\}") && balancedSetBraces(s)) {
    return { kind: "set", items: listItems(s.slice(2, -2), depth) };
  }
  if (isWrapped(s) && (s[0] === "(" || s[0] === "[") && splitTopLevel(s.slice(1, -1), ",").length > 1) {
    return {
      kind: "bracketed",
      open: s[0] as "(" | "[",
      close: s[s.length - 1] === "]" ? "]" : ")",
      items: splitTopLevel(s.slice(1, -1), ",").map((p) => shapeOf(p, depth + 1)),
    };
  }
  if (s.startsWith("\\langle") && s.endsWith("\\rangle")) {
    return { kind: "bracketed", open: "(", close: ")", items: splitTopLevel(s.slice(7, -7), ",").map((p) => shapeOf(p, depth + 1)) };
  }
  const items = splitTopLevel(s, ",");
  if (items.length > 1) return { kind: "set", items: listItems(s, depth) };
  const pm = plusMinus(s, depth);
  if (pm) return pm;
  const interval = inequality(s);
  if (interval) return interval;
  const sides = splitTopLevel(s, "=");
  if (sides.length === 2) return { kind: "equation", lhs: (sides[0] as string).trim(), rhs: (sides[1] as string).trim() };
  return { kind: "scalar", text: s };
}

function listItems(s: string, depth: number): Shape[] {
  const parts = splitTopLevel(s, ",").filter((p) => p.trim() !== "");
  if (parts.length > MAX_SHAPE_ITEMS) return [{ kind: "scalar", text: s }];
  return parts.flatMap((p) => {
    const item = shapeOf(p, depth + 1);
    return item.kind === "set" ? item.items : [item];
  });
}

function matrixOf(body: string, depth: number): Shape {
  const rows = body.split(/\\\\/).map((r) => r.trim()).filter((r) => r !== "");
  return { kind: "matrix", rows: rows.map((r) => r.split("&").map((cell) => shapeOf(cell, depth + 1))) };
}

function balancedSetBraces(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length - 1; i++) {
    if (s.startsWith("\\{", i)) depth++;
    else if (s.startsWith("\\}", i)) {
      depth--;
      if (depth === 0 && i < s.length - 2) return false;
    }
  }
  return true;
}

// `a \pm b` is the set {a + b, a - b}; an equation `x = 1 \pm 2` keeps its left side on both.
function plusMinus(s: string, depth: number): Shape | null {
  const count = (s.match(/\\(?:pm|mp)(?![A-Za-z])/g) ?? []).length;
  if (count !== 1) return null;
  const plus = s.replace(/\\pm(?![A-Za-z])/, "+").replace(/\\mp(?![A-Za-z])/, "-");
  const minus = s.replace(/\\pm(?![A-Za-z])/, "-").replace(/\\mp(?![A-Za-z])/, "+");
  return { kind: "set", items: [shapeOf(cleanSign(plus), depth + 1), shapeOf(cleanSign(minus), depth + 1)] };
}

function cleanSign(s: string): string {
  return s.replace(/(^|[=(,{])\+/g, "$1").replace(/\+-|-\+/g, "-").replace(/--/g, "+");
}

// `x > 2` is (2, \infty); `-2 \le x \le 7` is [-2, 7]; `2 < x` is (2, \infty).
function inequality(s: string): Shape | null {
  if (!RELATION.test(s)) return null;
  const parts = s.split(/(\\le(?![A-Za-z])|\\ge(?![A-Za-z])|<|>)/).map((p) => p.trim());
  const infinity = (sign: string): Shape => ({ kind: "scalar", text: `${sign}\\infty` });
  const scalar = (text: string): Shape => ({ kind: "scalar", text });
  if (parts.length === 3) {
    const [left, op, right] = parts as [string, string, string];
    const leftVar = SINGLE_VARIABLE.test(left);
    const rightVar = SINGLE_VARIABLE.test(right);
    if (leftVar === rightVar) return null;
    const bound = leftVar ? right : left;
    const strict = op === "<" || op === ">";
    // Normalise to "variable op bound".
    const greater = leftVar ? op === ">" || op === "\\ge" : op === "<" || op === "\\le";
    return greater
      ? { kind: "bracketed", open: strict ? "(" : "[", close: ")", items: [scalar(bound), infinity("")] }
      : { kind: "bracketed", open: "(", close: strict ? ")" : "]", items: [infinity("-"), scalar(bound)] };
  }
  if (parts.length === 5) {
    const [lo, op1, v, op2, hi] = parts as [string, string, string, string, string];
    const ascending = (o: string) => o === "<" || o === "\\le";
    if (!SINGLE_VARIABLE.test(v) || !ascending(op1) || !ascending(op2)) return null;
    return { kind: "bracketed", open: op1 === "<" ? "(" : "[", close: op2 === "<" ? ")" : "]", items: [scalar(lo), scalar(hi)] };
  }
  return null;
}

/** True when `lhs` of an equation is a single variable (`x = 5`, `k = 2`), which the checker drops. */
export function isSingleVariable(lhs: string): boolean {
  return SINGLE_VARIABLE.test(lhs);
}
