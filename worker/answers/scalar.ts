/**
 * @module scalar
 * Compares two single values: exact numbers first (BigInt rationals, with the
 * rounding tolerance only for a decimal that may be a rounding), numbers
 * written in a base (`4210_{5}`), percent and degrees read both ways when one
 * side carries the sign, then the CAS step for everything else, when the
 * context holds one (cas.ts): without it, undecided "needs the CAS".
 */
import type { WorkBudget } from "./budget";
import { NEEDS_CAS, type CasNeed, type SymbolicComparer } from "./cas";
import { equalRationals, parseNumericLiteral, rational, toNumber, type NumericLiteral, type Rational } from "./rational";
import { withinRounding } from "./numeric";
import { BUDGET_SPENT, different, equal, undecided, type Verdict } from "./verdict";

/** How one side was written, as normalisation found it. */
export interface SideFlags {
  percent: boolean;
  degrees: boolean;
}

/** What a comparison may use: the shared budget, and the CAS or null (then `need` records that it was wanted). */
export interface ScalarContext {
  budget: WorkBudget;
  cas: SymbolicComparer | null;
  need: CasNeed;
}

/** Undecided for want of the CAS, noted in the context so the caller can send the pair where the CAS is. */
export function withoutCas(ctx: ScalarContext): Verdict {
  ctx.need.needed = true;
  return undecided(NEEDS_CAS);
}

const BASE_LITERAL = /^(\w+)_\{?(\d+)\}?$/;
const ROUNDED_DECIMAL = /\d*\.\d*[1-9]/;

/** Compares two normalised scalar expressions. */
export async function compareScalars(refText: string, candText: string, refFlags: SideFlags, candFlags: SideFlags, ctx: ScalarContext): Promise<Verdict> {
  let ref = refText;
  let cand = candText;
  if (ref === cand) return equal("normalized", "same after normalisation");
  if (!ctx.budget.spend(1 + ((ref.length + cand.length) >> 4))) return undecided(BUDGET_SPENT);
  const base = compareBases(ref, cand);
  if (base) return base;
  const x = parseNumericLiteral(ref);
  const y = parseNumericLiteral(cand);
  if (x && y) return compareLiterals(x, y, refFlags.percent || candFlags.percent, refFlags, candFlags);
  const cas = ctx.cas;
  if (cas === null) return withoutCas(ctx);
  // The CAS reads `58,500` as a list: give it the number.
  if (x) ref = latexOf(x);
  if (y) cand = latexOf(y);
  const approximate = ROUNDED_DECIMAL.test(ref) || ROUNDED_DECIMAL.test(cand);
  const compareExpressions = cas.compareExpressions.bind(cas);
  const plain = guarded(() => compareExpressions(ref, cand, ctx.budget, approximate));
  if (plain.equivalent !== false) return plain;
  // One side in degrees, the other in radians (30^\circ against \pi/6).
  if (refFlags.degrees !== candFlags.degrees && /\\pi/.test(refFlags.degrees ? cand : ref)) {
    const [deg, rad] = refFlags.degrees ? [ref, cand] : [cand, ref];
    const asRadians = guarded(() => compareExpressions(`\\frac{\\pi}{180}\\left(${deg}\\right)`, rad, ctx.budget, approximate));
    if (asRadians.equivalent === true) return equal("symbolic", "the same angle in degrees and radians");
    if (asRadians.equivalent === null) return asRadians;
  }
  if (refFlags.percent !== candFlags.percent) {
    const [pct, other] = refFlags.percent ? [ref, cand] : [cand, ref];
    const asFraction = guarded(() => compareExpressions(`\\frac{${pct}}{100}`, other, ctx.budget, approximate));
    if (asFraction.equivalent !== false) return asFraction;
  }
  return plain;
}

/** Runs a CAS comparison; a CAS failure is undecided, never an error for the caller. */
export function guarded(f: () => Verdict): Verdict {
  try {
    return f();
  } catch {
    return undecided("the CAS could not compare these");
  }
}

function compareLiterals(x: NumericLiteral, y: NumericLiteral, percent: boolean, refFlags: SideFlags, candFlags: SideFlags): Verdict {
  const candidates: [NumericLiteral, NumericLiteral][] = [[x, y]];
  // "50\%" is 50 (the percent sign left off) or 0.5 (the same quantity as a fraction).
  if (percent) {
    const hundredth = (n: NumericLiteral): NumericLiteral => ({ ...n, value: rational(n.value.num, n.value.den * 100n) as Rational });
    if (refFlags.percent && !candFlags.percent) candidates.push([hundredth(x), y]);
    if (candFlags.percent && !refFlags.percent) candidates.push([x, hundredth(y)]);
  }
  for (const [a, b] of candidates) {
    if (equalRationals(a.value, b.value)) return equal("numeric", `${show(a)} = ${show(b)}`);
  }
  for (const [a, b] of candidates) {
    if ((a.approximate || b.approximate) && withinRounding(toNumber(a.value), toNumber(b.value))) {
      return equal("numeric", `${show(a)} within rounding of ${show(b)}`);
    }
  }
  return different("numeric", `${show(x)} and ${show(y)} are different numbers`);
}

function latexOf(n: NumericLiteral): string {
  const num = n.value.num < 0n ? `-${-n.value.num}` : String(n.value.num);
  if (n.value.den === 1n) return num;
  // A rounded decimal stays a decimal, so the rounding tolerance still applies.
  if (n.approximate) return String(toNumber(n.value));
  return `\\frac{${num}}{${n.value.den}}`;
}

function show(n: NumericLiteral): string {
  return n.value.den === 1n ? String(n.value.num) : `${n.value.num}/${n.value.den}`;
}

// `4210_{5}` against `4210_5`, `4210`, or another base.
function compareBases(ref: string, cand: string): Verdict | null {
  const a = BASE_LITERAL.exec(ref);
  const b = BASE_LITERAL.exec(cand);
  if (!a && !b) return null;
  const digits = (m: RegExpExecArray | null, s: string) => (m ? (m[1] as string) : s).replace(/^0+(?=.)/, "").toLowerCase();
  const baseOf = (m: RegExpExecArray | null) => (m ? Number(m[2]) : 10);
  const plain = /^\w+$/;
  if ((!a && !plain.test(ref)) || (!b && !plain.test(cand))) return null;
  const same = digits(a, ref) === digits(b, cand);
  if (a && b) {
    if (baseOf(a) === baseOf(b)) return same ? equal("normalized", "same digits in the same base") : different("numeric", "different numerals");
    return valueIn(a) !== null && valueIn(a) === valueIn(b) ? equal("numeric", "the same number in two bases") : different("numeric", "different numbers");
  }
  // A base left off ("4210" for "4210_5"): the same digits are the answer; the same value in base 10 is not what was asked.
  if (same) return equal("normalized", "same digits, base left off");
  const value = valueIn(a ?? (b as RegExpExecArray));
  const other = Number((a ? cand : ref).replace(/^0+(?=.)/, ""));
  return value !== null && value === other ? undecided("the same value written in base 10") : different("numeric", "different numbers");
}

function valueIn(m: RegExpExecArray): number | null {
  const base = Number(m[2]);
  const digits = (m[1] as string).toLowerCase();
  if (base < 2 || base > 36) return null;
  let v = 0;
  for (const ch of digits) {
    const d = parseInt(ch, 36);
    if (Number.isNaN(d) || d >= base) return null;
    v = v * base + d;
  }
  return v;
}
