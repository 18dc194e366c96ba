/**
 * @module words
 * Numbers written in English words: "twelve", "one hundred and five",
 * "minus three", "one half", "two thirds", "three quarters". Used to read a
 * student's reply and by the leak guard (a hint that says "one half" gives
 * away 1/2). Small and exact on purpose: the npm word-to-number packages are
 * unmaintained and fuzzy-match, and a fuzzy match here would invent numbers.
 */

const UNITS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17,
  eighteen: 18, nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70,
  eighty: 80, ninety: 90,
};
const SCALES: Record<string, number> = { hundred: 100, thousand: 1_000, million: 1_000_000, billion: 1_000_000_000 };
// Denominator words, singular and plural ("a half", "two halves", "three quarters").
const DENOMINATORS: Record<string, number> = {
  half: 2, halves: 2, third: 3, thirds: 3, quarter: 4, quarters: 4, fourth: 4, fourths: 4, fifth: 5,
  fifths: 5, sixth: 6, sixths: 6, seventh: 7, sevenths: 7, eighth: 8, eighths: 8, ninth: 9, ninths: 9,
  tenth: 10, tenths: 10, twelfth: 12, twelfths: 12, hundredth: 100, hundredths: 100,
};
const NEGATIVE = new Set(["minus", "negative"]);

/** A number found in words. */
export interface NumberWords {
  /** Offsets in the scanned text, `end` exclusive. */
  start: number;
  end: number;
  /** The number as LaTeX the checker reads: "12", "-3", "\frac{2}{3}". */
  latex: string;
}

const WORD = /[A-Za-z]+(?:-[A-Za-z]+)?/g;

/** Every run of number words in `text`, in order. A lone "a" or "and" is not a number. */
export function parseNumberWords(text: string): NumberWords[] {
  const tokens = [...text.matchAll(WORD)].map((m) => ({ word: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length }));
  const found: NumberWords[] = [];
  let i = 0;
  while (i < tokens.length) {
    const run = readNumber(tokens, i, text);
    if (run === null) {
      i++;
      continue;
    }
    found.push(run.number);
    i = run.next;
  }
  return found;
}

interface Token {
  word: string;
  start: number;
  end: number;
}

function readNumber(tokens: Token[], from: number, text: string): { number: NumberWords; next: number } | null {
  let i = from;
  let sign = "";
  if (NEGATIVE.has((tokens[i] as Token).word) && i + 1 < tokens.length) {
    sign = "-";
    i++;
  }
  let total = 0;
  let current = 0;
  let seen = false;
  let last = i - 1;
  for (; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (seen && !adjacent(text, tokens[i - 1] as Token, t)) break;
    const parts = t.word.split("-");
    const values = parts.map((p) => UNITS[p]);
    if (values.every((v) => v !== undefined)) {
      current += (values as number[]).reduce((a, b) => a + b, 0);
      seen = true;
      last = i;
    } else if (seen && SCALES[t.word] !== undefined) {
      const scale = SCALES[t.word] as number;
      if (scale === 100) current = Math.max(current, 1) * 100;
      else {
        total += Math.max(current, 1) * scale;
        current = 0;
      }
      last = i;
    } else if (seen && t.word === "and" && i + 1 < tokens.length && UNITS[(tokens[i + 1] as Token).word] !== undefined) {
      continue;
    } else break;
  }
  const numerator = total + current;
  const first = tokens[from] as Token;
  // "one half", "a half", "two thirds": a count followed by a denominator word.
  const article = !seen && (tokens[i] as Token | undefined)?.word === "a";
  if (article) i++;
  const den = tokens[i] !== undefined ? DENOMINATORS[(tokens[i] as Token).word] : undefined;
  if (den !== undefined && (seen || article) && (i === 0 || adjacent(text, tokens[i - 1] as Token, tokens[i] as Token))) {
    const num = seen ? numerator : 1;
    const end = (tokens[i] as Token).end;
    return { number: { start: first.start, end, latex: `${sign}\\frac{${num}}{${den}}` }, next: i + 1 };
  }
  if (!seen) return null;
  const end = (tokens[last] as Token).end;
  return { number: { start: first.start, end, latex: `${sign}${numerator}` }, next: last + 1 };
}

// Words of one number are separated by spaces or a hyphen only ("twenty one", "twenty-one").
function adjacent(text: string, a: Token, b: Token): boolean {
  return /^[\s-]+$/.test(text.slice(a.end, b.start));
}
