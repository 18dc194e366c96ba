/**
 * @module rational
 * Exact rationals over BigInt, and the reading of a numeric literal as one:
 * integers (AIME's "033"), decimals (".35625"), `a/b`, `\frac{a}{b}`, mixed
 * numbers (`1\frac{4}{5}`, MATH's convention), scientific notation (`1.2e-3`,
 * `1.2\times10^{-3}`), thousands separators (`10,080`). A literal that is a
 * decimal with digits after the point is marked `approximate`: it may be a
 * rounding of an exact answer, and only then is the checker's tolerance
 * applied. Exact arithmetic means 10^20+1 and 10^20 are never "equal".
 */

/** A reduced fraction, `den` > 0. */
export interface Rational {
  num: bigint;
  den: bigint;
}

/** A literal read as a number. */
export interface NumericLiteral {
  value: Rational;
  /** Written with digits after a decimal point: possibly a rounding. */
  approximate: boolean;
  /** Digits after the point (0 when not approximate). */
  decimals: number;
}

/** Literals longer than this are not read exactly (BigInt work grows with digits). */
export const MAX_LITERAL_DIGITS = 400;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** `num/den` reduced; null when `den` is zero. */
export function rational(num: bigint, den: bigint = 1n): Rational | null {
  if (den === 0n) return null;
  const sign = den < 0n ? -1n : 1n;
  const g = gcd(num, den) || 1n;
  return { num: (sign * num) / g, den: (sign * den) / g };
}

export function equalRationals(a: Rational, b: Rational): boolean {
  return a.num === b.num && a.den === b.den;
}

export function subtract(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den - b.num * a.den, a.den * b.den) as Rational;
}

export function multiply(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den) as Rational;
}

export function absolute(a: Rational): Rational {
  return { num: a.num < 0n ? -a.num : a.num, den: a.den };
}

/** `a <= b`. */
export function atMost(a: Rational, b: Rational): boolean {
  return a.num * b.den <= b.num * a.den;
}

/** Nearest double (exact for the sizes answers have). */
export function toNumber(a: Rational): number {
  const n = Number(a.num);
  const d = Number(a.den);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // Scale both down by the same power of ten before dividing.
  const shift = BigInt(Math.max(a.num.toString().length, a.den.toString().length) - 300);
  const s = 10n ** (shift > 0n ? shift : 0n);
  return Number(a.num / s) / Number(a.den / s);
}

const DECIMAL = /^([-+]?)(\d*)(?:\.(\d*))?(?:(?:e|E|\\times\s*10\^|\\cdot\s*10\^|\*10\^|\*\*)\{?([-+]?\d+)\}?)?$/;

function decimal(text: string): NumericLiteral | null {
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const [, sign, int = "", frac = "", exp] = m;
  if (int === "" && frac === "") return null;
  if (int.length + frac.length > MAX_LITERAL_DIGITS || (exp !== undefined && Math.abs(Number(exp)) > MAX_LITERAL_DIGITS)) return null;
  let num = BigInt((int || "0") + frac);
  let den = 10n ** BigInt(frac.length);
  const e = exp === undefined ? 0 : Number(exp);
  if (e > 0) num *= 10n ** BigInt(e);
  else if (e < 0) den *= 10n ** BigInt(-e);
  if (sign === "-") num = -num;
  const significant = frac.replace(/0+$/, "");
  return { value: rational(num, den) as Rational, approximate: significant.length > 0 && e === 0, decimals: frac.length };
}

const FRACTION = /^([-+]?)\\frac\{([-+]?[\d.]+)\}\{([-+]?[\d.]+)\}$/;
const SLASH = /^([-+]?)([\d.]+)\/([\d.]+)$/;
const MIXED = /^([-+]?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$/;
const THOUSANDS = /^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;

/**
 * `text` (normalised: no spaces, `\frac{a}{b}` braced) as an exact number,
 * or null when it is not a plain numeric literal (anything else goes to the
 * symbolic step).
 */
export function parseNumericLiteral(text: string): NumericLiteral | null {
  if (THOUSANDS.test(text)) return decimal(text.replace(/,/g, ""));
  const plain = decimal(text);
  if (plain) return plain;
  const f = FRACTION.exec(text) ?? SLASH.exec(text);
  if (f) {
    const [, sign, a, b] = f as unknown as [string, string, string, string];
    const n = decimal(a);
    const d = decimal(b);
    if (!n || !d || d.value.num === 0n) return null;
    const q = rational(n.value.num * d.value.den * (sign === "-" ? -1n : 1n), n.value.den * d.value.num) as Rational;
    return { value: q, approximate: n.approximate || d.approximate, decimals: 0 };
  }
  const mixed = MIXED.exec(text);
  if (mixed) {
    const [, sign, whole, a, b] = mixed as unknown as [string, string, string, string, string];
    if (BigInt(b) === 0n || BigInt(a) >= BigInt(b)) return null;
    const q = rational(BigInt(whole) * BigInt(b) + BigInt(a), BigInt(b)) as Rational;
    return { value: sign === "-" ? { num: -q.num, den: q.den } : q, approximate: false, decimals: 0 };
  }
  return null;
}
