/**
 * @module evaluate
 * Evaluates a MathJSON expression (the form the CAS parses LaTeX into) in
 * double-precision complex arithmetic at given values of its variables. It is
 * the fast, bounded half of the symbolic step: every node costs one work unit
 * and nothing here can loop or allocate without bound (integer factorials
 * stop at 170, where doubles overflow). An operator it does not know throws
 * `Unsupported`, and the caller then asks the CAS or answers null.
 */

/** MathJSON as the CAS serialises it: numbers, `{num}` for big ones, symbols, `[operator, ...operands]`. */
export type MathJson = number | string | { num: string } | MathJson[];

export interface Complex {
  re: number;
  im: number;
}

/** Thrown for an operator or symbol outside what `evaluate` knows. */
export class Unsupported extends Error {}

/** Symbols the CAS uses for constants; anything else is a variable. */
export const CONSTANTS: ReadonlySet<string> = new Set(["Pi", "ExponentialE", "ImaginaryUnit", "PositiveInfinity", "NegativeInfinity", "ComplexInfinity", "NaN", "Half", "GoldenRatio", "CatalanConstant", "EulerGamma"]);

const c = (re: number, im = 0): Complex => ({ re, im });
const NAN = c(NaN, NaN);

/** Node count of an expression, the unit of its evaluation cost. */
export function countNodes(e: MathJson): number {
  return Array.isArray(e) ? e.reduce<number>((n, x, i) => n + (i === 0 ? 1 : countNodes(x)), 0) : 1;
}

/** The variables of `e` (symbols that are not constants), sorted. */
export function freeVariables(e: MathJson, into: Set<string> = new Set()): Set<string> {
  if (typeof e === "string") {
    if (!CONSTANTS.has(e) && !e.startsWith("'")) into.add(e);
  } else if (Array.isArray(e)) e.slice(1).forEach((x) => freeVariables(x, into));
  return into;
}

// Set when an operation on real operands gave a non-real result (sqrt of a negative, log of a negative,
// a fractional power of a negative): the point is outside the real domain of the expression.
let leftReals = false;

/** `e` at `values`, and whether evaluating it left the reals (the point is then outside its real domain). */
export function evaluateInReals(e: MathJson, values: ReadonlyMap<string, number>): { value: Complex; leftReals: boolean } {
  leftReals = false;
  const value = evaluate(e, values);
  return { value, leftReals };
}

function leaves(a: Complex, r: Complex): Complex {
  if (a.im === 0 && r.im !== 0) leftReals = true;
  return r;
}

/** `e` evaluated with `values` for its variables. Throws `Unsupported`. */
export function evaluate(e: MathJson, values: ReadonlyMap<string, number>): Complex {
  if (typeof e === "number") return c(e);
  if (typeof e === "string") return symbol(e, values);
  if (!Array.isArray(e)) return c(Number(e.num));
  const [op, ...args] = e;
  if (typeof op !== "string") throw new Unsupported("operator");
  if (op === "Rational" || op === "Complex") {
    const [a, b] = args.map((x) => evaluate(x, values)) as [Complex, Complex];
    return op === "Rational" ? div(a, b) : c(a.re, b.re);
  }
  const v = args.map((x) => evaluate(x, values));
  const first = v[0] as Complex;
  switch (op) {
    case "Add":
      return v.reduce(add, c(0));
    case "Subtract":
      return v.length === 1 ? neg(first) : add(first, neg(v[1] as Complex));
    case "Negate":
      return neg(first);
    case "Multiply":
      return v.reduce(mul, c(1));
    case "Divide":
      return div(first, v[1] as Complex);
    case "Power":
      return (v[1] as Complex).im === 0 ? leaves(first, pow(first, v[1] as Complex)) : pow(first, v[1] as Complex);
    case "Square":
      return mul(first, first);
    case "Sqrt":
      return leaves(first, sqrt(first));
    case "Root":
      return leaves(first, root(first, v[1] as Complex));
    case "Exp":
      return exp(first);
    case "Ln":
      return leaves(first, log(first));
    case "Log":
      return div(leaves(first, log(first)), log(v[1] ?? c(10)));
    case "Lb":
      return div(leaves(first, log(first)), log(c(2)));
    case "Lg":
      return div(leaves(first, log(first)), log(c(10)));
    case "Abs":
      return c(Math.hypot(first.re, first.im));
    default:
      return special(op, v);
  }
}

function symbol(s: string, values: ReadonlyMap<string, number>): Complex {
  switch (s) {
    case "Pi":
      return c(Math.PI);
    case "ExponentialE":
      return c(Math.E);
    case "ImaginaryUnit":
      return c(0, 1);
    case "Half":
      return c(0.5);
    case "GoldenRatio":
      return c((1 + Math.sqrt(5)) / 2);
    case "PositiveInfinity":
      return c(Infinity);
    case "NegativeInfinity":
      return c(-Infinity);
    case "ComplexInfinity":
    case "NaN":
      return NAN;
  }
  const v = values.get(s);
  if (v === undefined) throw new Unsupported(`symbol ${s}`);
  return c(v);
}

function special(op: string, v: Complex[]): Complex {
  const z = v[0] as Complex;
  const trig: Record<string, (x: Complex) => Complex> = {
    Sin: sin,
    Cos: cos,
    Tan: (x) => div(sin(x), cos(x)),
    Cot: (x) => div(cos(x), sin(x)),
    Sec: (x) => div(c(1), cos(x)),
    Csc: (x) => div(c(1), sin(x)),
  };
  const f = trig[op];
  if (f) return f(z);
  const real: Record<string, (x: number) => number> = {
    Arcsin: Math.asin, Arccos: Math.acos, Arctan: Math.atan, Sinh: Math.sinh, Cosh: Math.cosh, Tanh: Math.tanh,
    Floor: Math.floor, Ceil: Math.ceil, Round: Math.round, Sign: Math.sign,
  };
  const g = real[op];
  if (g && v.length === 1 && z.im === 0) {
    const r = g(z.re);
    if (Number.isNaN(r)) throw new Unsupported(`${op} outside the reals`);
    return c(r);
  }
  if (op === "Factorial" && v.length === 1 && z.im === 0) return c(factorial(z.re));
  if (op === "Binomial" && v.length === 2 && z.im === 0 && (v[1] as Complex).im === 0) {
    const n = z.re;
    const k = (v[1] as Complex).re;
    return c(factorial(n) / (factorial(k) * factorial(n - k)));
  }
  throw new Unsupported(op);
}

function factorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new Unsupported("factorial of a non-integer");
  if (n > 170) return Infinity;
  let r = 1;
  for (let i = 2; i <= n; i++) r *= i;
  return r;
}

function add(a: Complex, b: Complex): Complex {
  return c(a.re + b.re, a.im + b.im);
}
function neg(a: Complex): Complex {
  return c(-a.re, -a.im);
}
function mul(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return c(a.re * b.re);
  return c(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
function div(a: Complex, b: Complex): Complex {
  if (a.im === 0 && b.im === 0) return b.re === 0 ? NAN : c(a.re / b.re);
  const d = b.re * b.re + b.im * b.im;
  if (d === 0) return NAN;
  return c((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}
function exp(a: Complex): Complex {
  const m = Math.exp(a.re);
  return a.im === 0 ? c(m) : c(m * Math.cos(a.im), m * Math.sin(a.im));
}
function log(a: Complex): Complex {
  if (a.im === 0 && a.re > 0) return c(Math.log(a.re));
  if (a.re === 0 && a.im === 0) return NAN;
  return c(Math.log(Math.hypot(a.re, a.im)), Math.atan2(a.im, a.re));
}
function sqrt(a: Complex): Complex {
  if (a.im === 0) return a.re >= 0 ? c(Math.sqrt(a.re)) : c(0, Math.sqrt(-a.re));
  const m = Math.hypot(a.re, a.im);
  const re = Math.sqrt((m + a.re) / 2);
  return c(re, Math.sign(a.im) * Math.sqrt((m - a.re) / 2));
}
function pow(a: Complex, b: Complex): Complex {
  if (b.im === 0 && Number.isInteger(b.re) && Math.abs(b.re) <= 64) {
    if (a.im === 0) return c(Math.pow(a.re, b.re));
    let r = c(1);
    for (let i = 0; i < Math.abs(b.re); i++) r = mul(r, a);
    return b.re < 0 ? div(c(1), r) : r;
  }
  if (a.im === 0 && b.im === 0 && a.re >= 0) return c(Math.pow(a.re, b.re));
  if (a.re === 0 && a.im === 0) return b.re > 0 ? c(0) : NAN;
  return exp(mul(b, log(a)));
}
// The real root of a negative number for an odd index, as the CAS and a student read `\sqrt[3]{-8}`.
function root(a: Complex, n: Complex): Complex {
  if (a.im === 0 && n.im === 0 && a.re < 0 && Number.isInteger(n.re) && n.re % 2 !== 0) return c(-Math.pow(-a.re, 1 / n.re));
  return pow(a, div(c(1), n));
}
function sin(a: Complex): Complex {
  return a.im === 0 ? c(Math.sin(a.re)) : c(Math.sin(a.re) * Math.cosh(a.im), Math.cos(a.re) * Math.sinh(a.im));
}
function cos(a: Complex): Complex {
  return a.im === 0 ? c(Math.cos(a.re)) : c(Math.cos(a.re) * Math.cosh(a.im), -Math.sin(a.re) * Math.sinh(a.im));
}
