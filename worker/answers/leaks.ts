/**
 * @module leaks
 * Finds where a text gives an answer away (DESIGN.md invariant 9, the tutor
 * guard of issue 14): every `\boxed{}`/`\fbox{}`, and every formula
 * (`$...$`, `\(...\)`, `\[...\]`), bare LaTeX fragment (`\frac{1}{2}`),
 * plain number (`0.5`, `1/2`, `50%`), list or tuple of numbers, or number in
 * words ("one half") that the checker finds equal to the reference or cannot
 * rule out. Withholding is the safe side: an undecided comparison (null, a
 * spent budget included) is a leak. A formula is a leak when the whole of it,
 * one of its items or sides, or one number or fragment inside it is.
 */
import { DEFAULT_BATCH_WORK_UNITS, WorkBudget } from "./budget";
import { checkLocally, resolvePending, type CheckOptions, type LocalCheck } from "./check";
import { isConstant } from "./compare";
import { matchBrace, splitTopLevel } from "./latex";
import { normalizeAnswer } from "./normalize";
import { parseShape } from "./shape";
import { parseNumberWords } from "./words";

export interface Leak {
  /** Offsets in the text, `end` exclusive. */
  start: number;
  end: number;
  /** The leaking text itself. */
  text: string;
  /** What was found: a box, a formula, a bare LaTeX fragment, a number, a list of numbers, a number in words. */
  kind: "boxed" | "math" | "latex" | "number" | "list" | "words";
  /** True when equal to the reference; null when it could not be ruled out. */
  equivalent: true | null;
}

export type LeakOptions = Pick<CheckOptions, "cas" | "remote" | "workUnits" | "budget" | "clock">;

const MATH = /\$\$([\s\S]*?)\$\$|(?<!\\)\$((?:\\\$|[^$])+?)\$|\\\(([\s\S]*?)\\\)|\\\[([\s\S]*?)\\\]|\\begin\{(equation|align|gather|multline)\*?\}([\s\S]*?)\\end\{\5\*?\}/g;
const BOX = /\\(?:boxed|fbox)(?![A-Za-z])/g;
/** A plain number: integer, decimal, thousands, a fraction `a/b` (spaces allowed), a percent. */
export const NUMBER = /(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+|(?<=\d))(?:\s*\/\s*\d+(?:\.\d+)?)?(?:\s*(?:\\?%|percent\b))?/g;
/** A bare LaTeX fragment: a command with its braced arguments, e.g. `\frac{1}{2}`, `\dfrac12`, `\sqrt{2}`, `3\pi`. */
const FRAGMENT = /(?:\d+(?:\.\d+)?\s*)?\\(?:[dt]?frac|sqrt|binom|pi|infty)(?![A-Za-z])(?:\s*\[[^\]]*\])?(?:\s*(?:\{[^{}$]*(?:\{[^{}$]*\}[^{}$]*)*\}|\d|\\[A-Za-z]+))*/g;
/** A run of numbers joined by commas, "and" or "or", possibly in brackets: "3, 5 and 7", "(3, 1.5)". */
const LIST = /(?:[([{]\s*)?[-−]?\d+(?:[./]\d+)*(?:\s*(?:,|\band\b|\bor\b)\s*[-−]?\d+(?:[./]\d+)*)+(?:\s*[)\]}])?/g;

interface Candidate {
  start: number;
  end: number;
  kind: Leak["kind"];
  /** Strings the checker compares with the reference; a leak if any is not ruled out. */
  probes: string[];
}

/**
 * The spans of `text` that give `reference` away, in order, not overlapping.
 * Each candidate's probes are checked in order until one is not ruled out;
 * without the CAS here, the probes left to it go to `remote` in one call for
 * the whole text, and the walk is then finished with their answers (a probe
 * still undecided is a leak).
 */
export async function findAnswerLeaks(text: string, reference: string, options: LeakOptions = {}): Promise<Leak[]> {
  const budget = options.budget ?? new WorkBudget(options.workUnits ?? DEFAULT_BATCH_WORK_UNITS, options.clock);
  const referenceIsConstant = isConstantAnswer(reference);
  const checked: LocalCheck[] = [];
  // Per candidate, the indexes into `checked` of its probes, in order, up to the first not ruled out here.
  const walks: { c: Candidate; probes: number[] }[] = [];
  for (const c of candidates(text)) {
    const walk = { c, probes: [] as number[] };
    walks.push(walk);
    if (c.kind === "boxed") continue;
    for (const probe of c.probes) {
      // A fragment without digits or constants cannot be a number (`\angle ABC` is not 1/2).
      if (referenceIsConstant && !/\d|\\pi|\\infty|\\sqrt|\bi\b|\be\b/.test(probe) && parseNumberWords(probe).length === 0) continue;
      const local = await checkLocally(reference, probe, { cas: options.cas ?? null }, budget);
      walk.probes.push(checked.push(local) - 1);
      // A probe the CAS may still rule out does not end the walk; any other verdict but false does.
      if (local.pending === null && local.result.equivalent !== false) break;
    }
  }
  const resolved = await resolvePending(checked, options.remote ?? null, budget);
  const leaks: Leak[] = [];
  for (const { c, probes } of walks) {
    let verdict: true | null | false = c.kind === "boxed" ? true : false;
    for (const i of probes) {
      if (verdict !== false) break;
      const r = resolved.get(i) ?? (checked[i] as LocalCheck).result;
      if (r.equivalent !== false) verdict = r.equivalent;
    }
    if (verdict !== false) leaks.push({ start: c.start, end: c.end, text: text.slice(c.start, c.end), kind: c.kind, equivalent: verdict });
  }
  return merge(leaks, text);
}

// Overlapping leaks (a list and a number in it) become one span, reported as the widest.
function merge(leaks: Leak[], text: string): Leak[] {
  const out: Leak[] = [];
  for (const l of leaks.sort((a, b) => a.start - b.start || b.end - a.end)) {
    const last = out[out.length - 1];
    if (last && l.start < last.end) {
      const end = Math.max(last.end, l.end);
      out[out.length - 1] = { ...last, end, text: text.slice(last.start, end), equivalent: last.equivalent === true || l.equivalent === true ? true : null };
    } else out.push(l);
  }
  return out;
}

/** `text` with each leak replaced by `replacement`. */
export function redactLeaks(text: string, leaks: readonly Leak[], replacement: string): string {
  let out = "";
  let at = 0;
  for (const l of [...leaks].sort((a, b) => a.start - b.start)) {
    if (l.start < at) continue;
    out += text.slice(at, l.start) + replacement;
    at = l.end;
  }
  return out + text.slice(at);
}

function isConstantAnswer(reference: string): boolean {
  const shape = parseShape(normalizeAnswer(reference));
  return shape.kind === "scalar" ? isConstant(shape) : shape.kind !== "text" && shape.kind !== "equation";
}

function candidates(text: string): Candidate[] {
  const found: Candidate[] = [];
  const taken: [number, number][] = [];
  const free = (s: number, e: number) => taken.every(([a, b]) => e <= a || s >= b);
  const take = (c: Candidate) => {
    if (!free(c.start, c.end)) return;
    found.push(c);
    taken.push([c.start, c.end]);
  };
  for (const m of text.matchAll(BOX)) {
    const open = text.indexOf("{", m.index);
    const close = open >= 0 && /^\s*$/.test(text.slice(m.index + m[0].length, open)) ? matchBrace(text, open) : -1;
    const end = close >= 0 ? close + 1 : Math.min(text.length, m.index + m[0].length + 32);
    take({ start: m.index, end, kind: "boxed", probes: [] });
  }
  for (const m of text.matchAll(MATH)) {
    const body = (m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[6] ?? "") as string;
    take({ start: m.index, end: m.index + m[0].length, kind: "math", probes: mathProbes(body) });
  }
  for (const m of text.matchAll(FRAGMENT)) take({ start: m.index, end: m.index + m[0].length, kind: "latex", probes: [m[0]] });
  const exclusive = taken.length;
  // Lists and the numbers inside them are both candidates: "2 and 12 and 1" leaks 12.
  for (const m of text.matchAll(LIST)) {
    const items = m[0].trim();
    if (free(m.index, m.index + m[0].length)) found.push({ start: m.index, end: m.index + m[0].length, kind: "list", probes: [items, items.replace(/^[([{]|[)\]}]$/g, "")] });
  }
  const outside = (s: number, e: number) => taken.slice(0, exclusive).every(([a, b]) => e <= a || s >= b);
  for (const m of text.matchAll(NUMBER)) {
    const end = m.index + m[0].length;
    if (outside(m.index, end)) found.push({ start: m.index, end, kind: "number", probes: [m[0]] });
  }
  for (const w of parseNumberWords(text)) {
    const pct = /^\s+percent\b/.exec(text.slice(w.end));
    const end = w.end + (pct ? pct[0].length : 0);
    if (outside(w.start, end)) found.push({ start: w.start, end, kind: "words", probes: [pct ? `${w.latex}\\%` : w.latex] });
  }
  return found.sort((a, b) => a.start - b.start || b.end - a.end);
}
// The whole formula, its items, the sides of its relations, and every number and fragment inside.
function mathProbes(body: string): string[] {
  const probes = new Set<string>([body.trim()]);
  for (const item of splitTopLevel(body, ",")) {
    probes.add(item.trim());
    for (const side of item.split(/=|<|>|\\le(?![A-Za-z])|\\ge(?![A-Za-z])|\\approx(?![A-Za-z])|\\ne(?![A-Za-z])|\\to(?![A-Za-z])/)) probes.add(side.trim());
  }
  for (const m of body.matchAll(FRAGMENT)) probes.add(m[0]);
  for (const m of body.matchAll(NUMBER)) probes.add(m[0]);
  for (const w of parseNumberWords(body.replace(/\\[A-Za-z]+/g, " "))) probes.add(w.latex);
  probes.delete("");
  return [...probes];
}
