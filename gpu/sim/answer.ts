/**
 * @module answer
 * Deterministic LIMO-shaped answers: step-by-step reasoning with the odd
 * self-check, that states its result ("so $x = 0.5$") and ends in
 * `\boxed{...}`, as LIMO writes them. Short (about 80 to 400 tokens) so
 * tests stay fast; the final answer comes last so a small `max_tokens` cuts
 * it, as it would a real long generation.
 */
import { createRng, hashString, type Rng } from "./prng";
import { tokenize } from "./tokenizer";

/** Natural answer lengths, in tokens (the closing sentence may add a few). */
export const ANSWER_MIN_TOKENS = 80;
const ANSWER_TARGET_MAX_TOKENS = 340;
/** Words of the question quoted back, as LIMO restates a problem. */
const QUOTED_WORDS = 12;

export interface AnswerSpec {
  /** Varies the reasoning: the hash of model, prompt, seed, temperature and choice. */
  seedKey: string;
  /** Fixes the boxed answer: the hash of model and prompt, so samples agree. */
  answerKey: string;
  /** The final answer to reach instead of the hashed one (final_answers, oracle). */
  finalAnswer?: string;
  /** The question, quoted back in the opening. */
  question: string;
  /** Keep reasoning at least this long (vLLM's `ignore_eos` / `min_tokens`). */
  minTokens?: number;
}

const OPENINGS = [
  "Okay, let me work through this problem step by step.",
  "Okay, so I need to solve this problem. Let me think about it step by step.",
  "Alright, let me try to figure this out step by step.",
] as const;

type Step = (r: Rng) => string;

const STEPS: readonly Step[] = [
  (r) => {
    const a = r.int(2, 40);
    const b = r.int(2, 40);
    return `First, let me write down what we know: the two quantities are ${a} and ${b}, and their product is ${a * b}.`;
  },
  (r) => {
    const a = r.int(3, 30);
    const s = a + r.int(5, 90);
    return `Let me denote the unknown by $x$. Then $x + ${a} = ${s}$, so $x = ${s - a}$.`;
  },
  (r) => {
    const n = r.int(5, 60);
    return `The sum of the first ${n} positive integers is $\\frac{${n} \\cdot ${n + 1}}{2} = ${(n * (n + 1)) / 2}$.`;
  },
  (r) => {
    const m = r.int(3, 13);
    const v = r.int(20, 500);
    return `Taking ${v} modulo ${m}, the remainder is ${v % m}, which matters for the next part.`;
  },
  (r) => {
    const a = r.int(1, 9);
    const b = r.int(1, 9);
    return `Expanding $(x + ${a})(x + ${b})$ gives $x^2 + ${a + b}x + ${a * b}$.`;
  },
  (r) => {
    const k = r.int(2, 6);
    return `By symmetry, each of the ${k} cases contributes equally, so it is enough to count one case and multiply by ${k}.`;
  },
  (r) => {
    const a = r.int(2, 12);
    return `Squaring both sides, we get ${a}^2 = ${a * a}, so the condition holds only when the sign is positive.`;
  },
  () => "Hmm, that seems off. Let me reconsider the constraint before going further.",
  (r) => {
    const a = r.int(2, 25);
    const b = r.int(2, 25);
    return `Wait, let me double-check this step. ${a} times ${b} is indeed ${a * b}, so the computation above is right.`;
  },
  () => "So the problem reduces to counting the valid configurations, which we can do directly.",
];

const CHECKS = [
  "Wait, let me double-check the whole computation once more. Everything is consistent.",
  "Let me verify this with a quick sanity check. Plugging the value back in works.",
  "Hmm, let me make sure I did not miss a case. No, all cases are covered.",
] as const;

/** The answer a prompt gets by default: a number fixed by the hash of model and prompt. */
export function defaultFinalAnswer(answerKey: string): string {
  return String(hashString(answerKey) % 1000);
}

/** Generates one answer; the same spec always gives the same text. */
export function generateAnswer(spec: AnswerSpec): string {
  const rng = createRng(spec.seedKey);
  const finalAnswer = spec.finalAnswer ?? defaultFinalAnswer(spec.answerKey);
  const target = Math.max(rng.int(ANSWER_MIN_TOKENS, ANSWER_TARGET_MAX_TOKENS), spec.minTokens ?? 0);
  // The reasoning reaches the answer before boxing it, as LIMO does: a tutor guard must find it here too.
  const result = /^-?[\d.]+$/.test(finalAnswer) ? `So we get $x = ${finalAnswer}$.` : `So the answer is $${finalAnswer}$.`;
  const closing = `Therefore, the final answer is \\boxed{${finalAnswer}}.`;

  const parts: string[] = [rng.pick(OPENINGS)];
  const quoted = quote(spec.question);
  if (quoted) parts.push(`The problem asks: "${quoted}"`);
  let tokens = countTokens(parts);
  const reserve = countTokens([closing]) + countTokens([CHECKS[0]]) + countTokens([result]);
  for (let step = 1; tokens + reserve < target; step++) {
    const sentence = `Step ${step}: ${rng.pick(STEPS)(rng)}`;
    parts.push(step === 1 ? `\n\n${sentence}` : `\n${sentence}`);
    tokens += countTokens([sentence]);
  }
  parts.push(`\n\n${result}`, `\n\n${rng.pick(CHECKS)}`, `\n\n${closing}`);
  return parts.join(" ").replace(/ \n/g, "\n");
}

/** The first words of the question, on one line, without quotes that would confuse the quote. */
function quote(question: string): string {
  const words = question.replace(/["\s]+/g, " ").trim().split(" ").filter(Boolean);
  if (words.length === 0) return "";
  const head = words.slice(0, QUOTED_WORDS).join(" ");
  return words.length > QUOTED_WORDS ? `${head} ...` : head;
}

function countTokens(parts: readonly string[]): number {
  return parts.reduce((sum, p) => sum + tokenize(p).length, 0);
}
