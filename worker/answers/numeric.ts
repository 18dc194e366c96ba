/**
 * @module numeric
 * When two numbers count as the same answer. Exact values (integers,
 * fractions, surds, pi) must agree exactly: 123456 and 123457 differ, and so
 * do 10^20 and 10^20+1. A decimal with digits after its point may be a
 * rounding, and then LIMO's tolerance applies: within 1e-4 absolute (its
 * `math_equal` uses `isclose(abs_tol=1e-4)`), and, where LIMO is weak, also
 * within 0.1% relative, so 0.00001 is not "equal" to 0.00005 as it is for
 * LIMO. LIMO also calls x equal to 100x and x/100 always; we do that only when
 * one side carries a percent sign.
 */
import type { Complex } from "./evaluate";

/** LIMO's absolute tolerance for a rounded decimal. */
export const ABSOLUTE_TOLERANCE = 1e-4;
/** Our guard for small numbers: a rounding keeps at least three significant digits. */
export const RELATIVE_TOLERANCE = 1e-3;
/** Floating noise allowed when two exact expressions are evaluated in doubles. */
export const EXACT_RELATIVE_TOLERANCE = 1e-9;

/** True when `a` and `b` agree as a rounded decimal and its exact value may. */
export function withinRounding(a: number, b: number): boolean {
  const d = Math.abs(a - b);
  const slack = 1 + 1e-9;
  return d <= ABSOLUTE_TOLERANCE * slack && d <= RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b)) * slack;
}

/** Complex `withinRounding` on the modulus of the difference. */
export function complexWithinRounding(a: Complex, b: Complex): boolean {
  const d = Math.hypot(a.re - b.re, a.im - b.im);
  const scale = Math.max(Math.hypot(a.re, a.im), Math.hypot(b.re, b.im));
  const slack = 1 + 1e-9;
  return d <= ABSOLUTE_TOLERANCE * slack && d <= RELATIVE_TOLERANCE * scale * slack;
}

/** Relative distance of two complex values (0 when both are 0). */
export function relativeDistance(a: Complex, b: Complex): number {
  const d = Math.hypot(a.re - b.re, a.im - b.im);
  if (d === 0) return 0;
  const scale = Math.max(Math.hypot(a.re, a.im), Math.hypot(b.re, b.im));
  return scale === 0 ? Infinity : d / scale;
}

/** A finite complex value. */
export function isFiniteComplex(z: Complex): boolean {
  return Number.isFinite(z.re) && Number.isFinite(z.im);
}
