/**
 * @module symbolic
 * The CAS step, the only file that imports `@cortex-js/compute-engine`
 * (about 3.4 MB of JavaScript). Only the checker Worker (checker/index.ts) and
 * Node tools import it and hand `symbolicComparer` to the checker as its `cas`;
 * nothing reachable from worker/index.ts may (`.dependency-cruiser.cjs`
 * `cas-outside-the-worker`), so the generation Worker's start-up never pays for it.
 *
 * How it decides (never a guess):
 * - Both sides are parsed by the CAS into MathJSON; an unreadable side,
 *   one over `MAX_EXPRESSION_NODES` nodes, or one with a factorial or an
 *   exponent too large to evaluate cheaply is undecided.
 * - Without variables: "equal" needs the difference to vanish to 80 digits
 *   (the CAS's high-precision evaluation; doubles alone would call
 *   e^{pi sqrt 163} an integer); "different" needs a relative gap above 1e-12
 *   there too. A side that is a rounded decimal is compared with the
 *   tolerance of `numeric` instead.
 * - With variables: both sides are evaluated at the same fixed pseudo-random
 *   points (positive and negative), in double-precision complex arithmetic;
 *   equal needs agreement at every point where both are defined (at least
 *   three positive ones) and one more agreement to 80 digits; a disagreement
 *   at any point means different (|x| and x differ). Variables are real: a
 *   point where a side leaves the reals (the square root of a negative) is
 *   outside that side's domain and is skipped, so sqrt(x) sqrt(y) equals
 *   sqrt(xy).
 * - Equations compare as the zero sets of left minus right: proportional
 *   everywhere means equal; two affine equations that are not proportional
 *   differ; anything else is undecided.
 * Inside workerd the CAS is used for parsing and `N()` only: nothing here
 * compiles with `new Function`, which Workers forbid.
 */
import { ComputeEngine, type Expression } from "@cortex-js/compute-engine";
import type { WorkBudget } from "./budget";
import type { SymbolicComparer } from "./cas";
import { countNodes, evaluate, evaluateInReals, freeVariables, Unsupported, type Complex, type MathJson } from "./evaluate";
import { complexWithinRounding, EXACT_RELATIVE_TOLERANCE, isFiniteComplex, relativeDistance } from "./numeric";
import { BUDGET_SPENT, different, equal, undecided, type Verdict } from "./verdict";

/** Larger expressions are not answers; the step declines them. */
export const MAX_EXPRESSION_NODES = 400;
/** Digits of the high-precision check. */
const PRECISION_DIGITS = 80;
/** A relative gap below this at 80 digits is equality. */
const HIGH_PRECISION_EQUAL = 1e-40;
/** A relative gap above this at 80 digits is a difference (e^{pi sqrt 163} is 3e-30 from an integer). */
const HIGH_PRECISION_DIFFERENT = 1e-30;
/** A relative gap above this (in doubles, or in doubles at a point) is a difference. */
const CLEAR_DIFFERENCE = 1e-6;
/** Work units of one CAS parse (plus one per character) and of one high-precision evaluation per node. */
const PARSE_UNITS = 1_500;
const HIGH_PRECISION_UNITS_PER_NODE = 60;
const POINT_UNITS_PER_NODE = 2;
/** Largest factorial/binomial argument and power exponent evaluated (100000! takes the CAS seconds). */
const MAX_FACTORIAL_ARGUMENT = 170;
const MAX_EXPONENT = 100_000;
const POSITIVE_POINTS = 6;
const NEGATIVE_POINTS = 4;
const MIN_POSITIVE_AGREEMENTS = 3;

let engine: ComputeEngine | null = null;

function cas(): ComputeEngine {
  if (engine === null) {
    engine = new ComputeEngine();
    engine.precision = PRECISION_DIGITS;
  }
  return engine;
}

interface Parsed {
  expr: Expression;
  json: MathJson;
  nodes: number;
}

function parse(latex: string, budget: WorkBudget): Parsed | Verdict {
  if (!budget.spend(PARSE_UNITS + latex.length)) return undecided(BUDGET_SPENT);
  const expr = cas().parse(latex);
  if (!expr.isValid) return undecided(`cannot read ${latex}`);
  const json = expr.json as MathJson;
  const nodes = countNodes(json);
  if (nodes > MAX_EXPRESSION_NODES) return undecided("expression too large");
  if (hazard(json)) return undecided("expression too costly to evaluate");
  return { expr, json, nodes };
}

function hazard(e: MathJson): boolean {
  if (!Array.isArray(e)) return false;
  const [op, ...args] = e;
  const big = (x: MathJson | undefined, limit: number) =>
    (typeof x === "number" && Math.abs(x) > limit) || (typeof x === "object" && x !== null && !Array.isArray(x));
  if ((op === "Factorial" || op === "Binomial" || op === "Gamma") && args.some((a) => big(a, MAX_FACTORIAL_ARGUMENT) || Array.isArray(a))) return true;
  if (op === "Power" && big(args[1], MAX_EXPONENT)) return true;
  if (op === "Sum" || op === "Product" || op === "Integrate" || op === "D" || op === "Limit") return true;
  return args.some(hazard);
}

/**
 * Compares two scalar expressions (see the module doc). `approximate` says a
 * side is a rounded decimal, so the rounding tolerance applies.
 */
export function compareExpressions(reference: string, candidate: string, budget: WorkBudget, approximate: boolean): Verdict {
  const a = parse(reference, budget);
  if (!("expr" in a)) return a;
  const b = parse(candidate, budget);
  if (!("expr" in b)) return b;
  const variables = [...freeVariables(a.json, freeVariables(b.json))].sort();
  return variables.length === 0 ? compareConstants(a, b, budget, approximate) : compareFunctions(a, b, variables, budget, approximate);
}

function valueOf(p: Parsed, point: ReadonlyMap<string, number>): Complex | null {
  try {
    return evaluate(p.json, point);
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}

function compareConstants(a: Parsed, b: Parsed, budget: WorkBudget, approximate: boolean): Verdict {
  if (!budget.spend((a.nodes + b.nodes) * POINT_UNITS_PER_NODE)) return undecided(BUDGET_SPENT);
  const x = valueOf(a, new Map()) ?? highPrecision(a.expr);
  const y = valueOf(b, new Map()) ?? highPrecision(b.expr);
  if (x === null || y === null) return undecided("cannot evaluate");
  if (!isFiniteComplex(x) || !isFiniteComplex(y)) {
    if (Number.isNaN(x.re) || Number.isNaN(y.re) || Number.isNaN(x.im) || Number.isNaN(y.im)) return undecided("undefined value");
    if (x.re === y.re && x.im === y.im) return equal("symbolic", "same infinity");
    return different("symbolic", "infinite against finite or opposite infinities");
  }
  if (approximate) {
    return complexWithinRounding(x, y)
      ? equal("numeric", `${show(x)} within rounding of ${show(y)}`)
      : different("numeric", `${show(x)} and ${show(y)} differ beyond rounding`);
  }
  if (!budget.spend((a.nodes + b.nodes) * HIGH_PRECISION_UNITS_PER_NODE)) return undecided(BUDGET_SPENT);
  const gap = highPrecisionGap(a.expr, b.expr, x, y);
  if (gap === null) return undecided("cannot evaluate precisely");
  if (gap <= HIGH_PRECISION_EQUAL) return equal("symbolic", `equal to ${PRECISION_DIGITS} digits (${show(x)})`);
  if (gap > HIGH_PRECISION_DIFFERENT) return different("numeric", `${show(x)} and ${show(y)} are different numbers`);
  return undecided("numbers too close to tell apart");
}

function highPrecision(e: Expression): Complex | null {
  const n = e.N();
  const z = { re: n.re, im: n.im };
  return Number.isNaN(z.re) ? null : z;
}

// |a - b| / max(|a|, |b|), the difference evaluated by the CAS to 80 digits.
function highPrecisionGap(a: Expression, b: Expression, x: Complex, y: Complex): number | null {
  const d = cas().box(["Subtract", a, b]).N();
  const re = d.re;
  const im = d.im;
  if (Number.isNaN(re) || Number.isNaN(im)) return null;
  const size = Math.hypot(re, im);
  if (size === 0) return 0;
  const scale = Math.max(Math.hypot(x.re, x.im), Math.hypot(y.re, y.im));
  return scale === 0 ? Infinity : size / scale;
}

function show(z: Complex): string {
  const r = (v: number) => String(Number(v.toPrecision(10)));
  return z.im === 0 ? r(z.re) : `${r(z.re)}${z.im < 0 ? "-" : "+"}${r(Math.abs(z.im))}i`;
}

// The same points every time: a verdict must never depend on chance.
function points(variables: string[], count: number, negative: boolean, seed: number): Map<string, number>[] {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => new Map(variables.map((v) => [v, (negative ? -1 : 1) * (0.31 + 2.6 * next())])));
}

type PointResult = "agree" | "differ" | "noise" | "skip" | "unsupported";

function realValueOf(p: Parsed, point: ReadonlyMap<string, number>): Complex | "outside" | null {
  try {
    const r = evaluateInReals(p.json, point);
    return r.leftReals ? "outside" : r.value;
  } catch (e) {
    if (e instanceof Unsupported) return null;
    throw e;
  }
}

// Variables are real: a point where either side leaves the reals (sqrt of a negative) is outside its domain.
function atPoint(a: Parsed, b: Parsed, point: Map<string, number>, approximate: boolean): PointResult {
  const x = realValueOf(a, point);
  const y = realValueOf(b, point);
  if (x === null || y === null) return "unsupported";
  if (x === "outside" || y === "outside") return "skip";
  if (!isFiniteComplex(x) || !isFiniteComplex(y)) return "skip";
  if (approximate) return complexWithinRounding(x, y) ? "agree" : "differ";
  const gap = relativeDistance(x, y);
  if (gap <= EXACT_RELATIVE_TOLERANCE || Math.max(Math.hypot(x.re, x.im), Math.hypot(y.re, y.im)) < 1e-12) return "agree";
  return gap > CLEAR_DIFFERENCE ? "differ" : "noise";
}

function compareFunctions(a: Parsed, b: Parsed, variables: string[], budget: WorkBudget, approximate: boolean): Verdict {
  const cost = (a.nodes + b.nodes) * POINT_UNITS_PER_NODE;
  const tally = (pts: Map<string, number>[]) => {
    const seen = { agree: 0, differ: 0, noise: 0, skip: 0, unsupported: 0, spent: false };
    for (const p of pts) {
      if (!budget.spend(cost)) seen.spent = true;
      else seen[atPoint(a, b, p, approximate)]++;
    }
    return seen;
  };
  const pos = tally(points(variables, POSITIVE_POINTS, false, 0x5eed));
  if (pos.spent) return undecided(BUDGET_SPENT);
  if (pos.unsupported > 0) return undecided("cannot evaluate");
  if (pos.differ > 0) return different("symbolic", `differ at ${variables.join(", ")} > 0`);
  if (pos.noise > 0 || pos.agree < MIN_POSITIVE_AGREEMENTS) return undecided("too few points to compare");
  const neg = tally(points(variables, NEGATIVE_POINTS, true, 0xbad5eed));
  if (neg.spent) return undecided(BUDGET_SPENT);
  if (neg.differ > 0) return different("symbolic", `equal for positive ${variables.join(", ")} only`);
  if (neg.noise > 0) return undecided("too close to tell apart at negative values");
  if (approximate) return equal("symbolic", `agree within rounding at ${pos.agree + neg.agree} points`);
  // One more check to 80 digits at a point, so floating noise cannot make a difference look like equality.
  if (!budget.spend((a.nodes + b.nodes) * HIGH_PRECISION_UNITS_PER_NODE)) return undecided(BUDGET_SPENT);
  const point = points(variables, 1, false, 0xc0ffee)[0] as Map<string, number>;
  const subs = Object.fromEntries([...point].map(([k, v]) => [k, cas().number(v)]));
  const x = valueOf(a, point);
  const y = valueOf(b, point);
  const gap = x && y ? highPrecisionGap(a.expr.subs(subs), b.expr.subs(subs), x, y) : null;
  if (gap === null) return undecided("cannot evaluate precisely");
  if (gap > HIGH_PRECISION_EQUAL) return gap > HIGH_PRECISION_DIFFERENT ? different("symbolic", "differ at a point") : undecided("numbers too close to tell apart");
  return equal("symbolic", `equal at ${pos.agree + neg.agree} points and to ${PRECISION_DIGITS} digits`);
}

/**
 * Compares two equations `l1 = r1` and `l2 = r2` as the zero sets of
 * `l - r` (see the module doc).
 */
export function compareEquations(reference: [string, string], candidate: [string, string], budget: WorkBudget): Verdict {
  const sides = [...reference, ...candidate].map((s) => parse(s, budget));
  for (const s of sides) if (!("expr" in s)) return s;
  const [l1, r1, l2, r2] = sides as [Parsed, Parsed, Parsed, Parsed];
  const f = (p: Map<string, number>) => difference(l1, r1, p);
  const g = (p: Map<string, number>) => difference(l2, r2, p);
  const variables = [...[l1, r1, l2, r2].reduce((set, s) => freeVariables(s.json, set), new Set<string>())].sort();
  if (variables.length === 0) return undecided("equations without variables");
  const cost = (l1.nodes + r1.nodes + l2.nodes + r2.nodes) * POINT_UNITS_PER_NODE * 3;
  let ratio: Complex | null = null;
  let proportional = true;
  let valid = 0;
  for (const p of points(variables, POSITIVE_POINTS + NEGATIVE_POINTS, false, 0xe9)) {
    if (!budget.spend(cost)) return undecided(BUDGET_SPENT);
    const x = f(p);
    const y = g(p);
    if (x === "unsupported" || y === "unsupported") return undecided("cannot evaluate");
    if (x === null || y === null || Math.hypot(y.re, y.im) < 1e-12) continue;
    const q = divide(x, y);
    valid++;
    if (ratio === null) ratio = q;
    else if (relativeDistance(ratio, q) > 1e-9) proportional = false;
  }
  if (valid < MIN_POSITIVE_AGREEMENTS) return undecided("too few points to compare");
  if (proportional && ratio !== null && Math.hypot(ratio.re, ratio.im) > 1e-12) return equal("equation", "the same equation rearranged");
  if (affine(f, variables) && affine(g, variables)) return different("equation", "different linear equations");
  return undecided("equations not proportional");
}

function difference(l: Parsed, r: Parsed, p: Map<string, number>): Complex | null | "unsupported" {
  const x = valueOf(l, p);
  const y = valueOf(r, p);
  if (x === null || y === null) return "unsupported";
  const d = { re: x.re - y.re, im: x.im - y.im };
  return isFiniteComplex(d) ? d : null;
}

function divide(a: Complex, b: Complex): Complex {
  const d = b.re * b.re + b.im * b.im;
  return { re: (a.re * b.re + a.im * b.im) / d, im: (a.im * b.re - a.re * b.im) / d };
}

// Affine along two random lines: the second difference vanishes.
function affine(f: (p: Map<string, number>) => Complex | null | "unsupported", variables: string[]): boolean {
  const [base, dir] = points(variables, 2, false, 0xaff1) as [Map<string, number>, Map<string, number>];
  const at = (t: number) => f(new Map(variables.map((v) => [v, (base.get(v) as number) + t * (dir.get(v) as number)])));
  const [f0, f1, f2] = [at(0), at(1), at(2)];
  if (f0 === null || f1 === null || f2 === null || f0 === "unsupported" || f1 === "unsupported" || f2 === "unsupported") return false;
  const second = Math.hypot(f2.re - 2 * f1.re + f0.re, f2.im - 2 * f1.im + f0.im);
  const scale = Math.max(Math.hypot(f0.re, f0.im), Math.hypot(f1.re, f1.im), Math.hypot(f2.re, f2.im), 1);
  return second <= 1e-9 * scale;
}

/** The CAS step as the checker's injected capability (check.ts `CheckOptions.cas`). */
export const symbolicComparer: SymbolicComparer = { compareExpressions, compareEquations };
