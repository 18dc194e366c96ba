/**
 * @module bench/tutor-guard
 * The tutor guard's cost, standalone: `node --import tsx bench/tutor-guard.ts`.
 * Streams tutor-like text (sentences with numbers, formulas and number words
 * that are not the reference, and some that are) token by token through the
 * stream guard (`LeakGuard`, as guardedChatStream uses it) and checks the
 * whole text once (the JSON path's `guardText`); prints CPU per streamed
 * token (process.cpuUsage, user + system), the JSON path's CPU per text, and
 * how much text the stream guard held back (median and largest, in characters).
 */
import { LeakGuard } from "../worker/answers/leak-guard";
import { guardText } from "../worker/tutoring/guarded-relay";
import { inProcessChecker } from "../checker/pipeline";

const ROUNDS = 20;
const REFERENCE = "\\frac{1}{2}";
const SENTENCES = [
  "Think about how many outcomes there are in total. ",
  "If there are 2 faces and each is equally likely, what share is one face? ",
  "Write the probability as a fraction $\\frac{k}{n}$ where $n$ counts the outcomes. ",
  "For example, a die has six faces, so one face has probability $\\frac{1}{6}$. ",
  "You should eventually find that the answer is 0.5. ",
  "Check that your value lies between 0 and 1, and that the cases add up to one whole. ",
  "Try the case of 3 tosses first: there are $2^3 = 8$ sequences. ",
];
/** About 4 characters per token, as LIMO's tokenizer averages on English and LaTeX. */
const CHARS_PER_TOKEN = 4;

function text(sentences: number): string {
  let out = "";
  for (let i = 0; i < sentences; i++) out += SENTENCES[(i * 5) % SENTENCES.length];
  return out;
}

function tokens(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += CHARS_PER_TOKEN) out.push(s.slice(i, i + CHARS_PER_TOKEN));
  return out;
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number;

const hint = text(40);
const pieces = tokens(hint);
const perToken: number[] = [];
const perText: number[] = [];
const held: number[] = [];
// Warm up the checker's code paths (no CAS is needed for these numbers).
await guardText(hint, REFERENCE, inProcessChecker);
for (let r = 0; r < ROUNDS; r++) {
  const guard = new LeakGuard(REFERENCE, { remote: inProcessChecker });
  const start = process.cpuUsage();
  for (const p of pieces) {
    await guard.push(p);
    held.push(guard.held);
  }
  await guard.end();
  perToken.push(cpuMs(start) / pieces.length);
  const t = process.cpuUsage();
  await guardText(hint, REFERENCE, inProcessChecker);
  perText.push(cpuMs(t));
  if (r % 5 === 4) process.stderr.write(`  round ${r + 1}/${ROUNDS}\n`);
}

const rows: [string, string][] = [
  [`stream guard, median CPU per token (${pieces.length} tokens, ${hint.length} chars, x ${ROUNDS})`, `${(quantile(perToken, 0.5) * 1000).toFixed(1)} µs`],
  ["stream guard, p95 CPU per token", `${(quantile(perToken, 0.95) * 1000).toFixed(1)} µs`],
  ["JSON guard (guardText), median CPU per whole text", `${quantile(perText, 0.5).toFixed(2)} ms`],
  ["stream guard, characters held back: median / largest", `${quantile(held, 0.5)} / ${Math.max(...held)}`],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`| ${"measure".padEnd(width)} | value |\n| ${"-".repeat(width)} | --- |`);
for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
