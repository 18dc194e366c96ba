/**
 * @module answer-forms
 * Other ways of writing a reference answer: forms that are truly equal
 * (`0.5` and `\dfrac{1}{2}` for `\frac{1}{2}`, `12.0` and `x = 12` for `12`)
 * and one that is truly unequal. The oracle uses them so an answer checker
 * meets rewritten answers, and a leaking tutor hint uses them so a guard must
 * catch the answer in any form. Only rewrites whose equality (or inequality)
 * holds by construction are made: a reference this module cannot read as a
 * number is only ever rewritten typographically (`\frac` to `\dfrac`).
 */

/** A plain number: an integer, a decimal, or a signed `\frac{a}{b}` of integers. */
type NumericAnswer =
  | { kind: "integer"; value: bigint }
  | { kind: "decimal"; text: string }
  | { kind: "fraction"; negative: boolean; numerator: bigint; denominator: bigint; command: string };

/** Decimal places a fraction may need to be written as a decimal (`3/8` is `0.375`). */
const MAX_DECIMAL_PLACES = 6;

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d*\.\d+$/;
/** `\frac{a}{b}`, `\dfrac{a}{b}`, `\tfrac{a}{b}`, with an optional minus sign. */
const FRACTION = /^(-?)\\([dt]?frac)\{(\d+)\}\{(\d+)\}$/;
/** LaTeX's brace-less `\frac43` (one digit each). */
const SHORT_FRACTION = /^(-?)\\([dt]?frac)(\d)(\d)$/;
/** A multiple-choice answer: `\text{(B)}`, `(B)` or `B`. */
const CHOICE_LETTER = /^(\\text\{\(?|\(?)([A-E])(\)?\}|\)?)$/;

/** Reads a reference as a plain number, or null. */
function parseNumeric(reference: string): NumericAnswer | null {
  const r = reference.trim();
  if (INTEGER.test(r)) return { kind: "integer", value: BigInt(r) };
  if (DECIMAL.test(r)) return { kind: "decimal", text: r };
  const m = FRACTION.exec(r) ?? SHORT_FRACTION.exec(r);
  if (!m) return null;
  const denominator = BigInt(m[4] as string);
  if (denominator === 0n) return null;
  return { kind: "fraction", negative: m[1] === "-", numerator: BigInt(m[3] as string), denominator, command: m[2] as string };
}

/**
 * Every form of `reference` written differently but truly equal to it,
 * without the reference itself (possibly empty).
 */
export function equivalentForms(reference: string): string[] {
  const r = reference.trim();
  const n = parseNumeric(r);
  const forms: string[] = [];
  if (n?.kind === "integer") forms.push(`${n.value}.0`, `x = ${n.value}`);
  else if (n?.kind === "decimal") forms.push(`${r.startsWith("-.") ? "-0." + r.slice(2) : r.startsWith(".") ? "0" + r : r}0`, `x = ${r}`);
  else if (n?.kind === "fraction") {
    const sign = n.negative ? "-" : "";
    const other = n.command === "dfrac" ? "frac" : "dfrac";
    forms.push(`${sign}\\${other}{${n.numerator}}{${n.denominator}}`, `${sign}${n.numerator}/${n.denominator}`);
    const decimal = terminatingDecimal(n.numerator, n.denominator);
    if (decimal !== null) forms.push(`${sign}${decimal}`);
  } else if (/\\frac\{/.test(r)) {
    // Typographic only: \dfrac and \frac are the same fraction to every grader.
    forms.push(r.replace(/\\frac\{/, "\\dfrac{"));
  }
  return forms.filter((f) => f !== r);
}

/** A form of `reference` that is truly unequal to it: the number plus one, or a changed expression. */
export function unequalForm(reference: string): string {
  const r = reference.trim();
  const n = parseNumeric(r);
  if (n?.kind === "integer") return String(n.value + 1n);
  if (n?.kind === "decimal") return decimalPlusOne(r);
  if (n?.kind === "fraction") {
    // ±a/b + 1 = (±a + b)/b, left unreduced: still a different number.
    const top = (n.negative ? -n.numerator : n.numerator) + n.denominator;
    if (top === 0n) return "0";
    return `${top < 0n ? "-" : ""}\\frac{${top < 0n ? -top : top}}{${n.denominator}}`;
  }
  const letter = CHOICE_LETTER.exec(r);
  if (letter) return `${letter[1]}${String.fromCharCode((((letter[2] as string).charCodeAt(0) - 65 + 1) % 5) + 65)}${letter[3]}`;
  // The first integer in the expression, plus one: (6,31,-1) -> (7,31,-1), 3\sqrt{13} -> 4\sqrt{13}.
  if (/\d/.test(r)) return r.replace(/\d+/, (d) => String(BigInt(d) + 1n));
  if (/^\\text\{[^{}]*\}$/.test(r)) return r === "\\text{none}" ? "\\text{all}" : "\\text{none}";
  return `${r} + 1`;
}

/** `a/b` as a decimal when it terminates within MAX_DECIMAL_PLACES, else null. */
function terminatingDecimal(numerator: bigint, denominator: bigint): string | null {
  for (let places = 0; places <= MAX_DECIMAL_PLACES; places++) {
    const scale = 10n ** BigInt(places);
    if ((numerator * scale) % denominator !== 0n) continue;
    const scaled = (numerator * scale) / denominator;
    if (places === 0) return String(scaled);
    const digits = scaled.toString().padStart(places + 1, "0");
    return `${digits.slice(0, -places)}.${digits.slice(-places)}`;
  }
  return null;
}

/** `d + 1` written with the same number of decimal places, exactly (no floating point). */
function decimalPlusOne(text: string): string {
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const [whole = "", fraction = ""] = body.split(".");
  const scale = 10n ** BigInt(fraction.length);
  const value = (negative ? -1n : 1n) * (BigInt(whole || "0") * scale + BigInt(fraction || "0")) + scale;
  const abs = value < 0n ? -value : value;
  const digits = abs.toString().padStart(fraction.length + 1, "0");
  return `${value < 0n ? "-" : ""}${digits.slice(0, -fraction.length)}.${digits.slice(-fraction.length)}`;
}
