/**
 * @module plan
 * Decides, before the first token, what each choice will say and why it will
 * end: the natural answer (a solution, a tutoring hint, or a structured
 * output), cut by `max_tokens` ("length") or by the first stop string
 * ("stop", with `stop_reason`). Pacing and failures are the engine's
 * business; this is pure.
 */
import { defaultFinalAnswer, generateAnswer } from "./answer";
import { findProblem, oracleAnswer, type OracleSetting, type ProblemIndex } from "./oracle";
import type { GenerationRequest } from "./request-schema";
import { structuredText } from "./structured";
import { tokenize, tokenizeFine } from "./tokenizer";
import { asksForHint, generateHint } from "./tutor";

export interface ChoicePlan {
  index: number;
  /** Content tokens, one per stream chunk; never empty strings. */
  tokens: string[];
  finishReason: "stop" | "length";
  /** The stop string that ended the choice, or null. */
  stopReason: string | null;
  /** Salt for the choice's fake logprobs. */
  seedKey: string;
  /**
   * Oracle mode's verdict on this choice, set only when the choice ends in
   * the oracle's boxed answer (not cut before it): what `/sim/stats` counts.
   */
  oracle: "correct" | "wrong" | null;
}

/**
 * Whether the choice's last token carries its finish (cut by `max_tokens`, or
 * a stop string found in it), rather than an end of sequence after it.
 */
export function endsOnLastToken(plan: ChoicePlan): boolean {
  return plan.finishReason === "length" || plan.stopReason !== null;
}

/** The simulator's answer knobs (see config.ts) and what it was given to read them. */
export interface AnswerOptions {
  /** `min_tokens` knob: the least every answer runs to, whatever the request asks. */
  minTokens: number | null;
  /** `final_answers` knob. */
  finalAnswers: readonly string[] | null;
  /** `oracle` knob. */
  oracle: OracleSetting | null;
  /** `hint_leak_rate` knob. */
  hintLeakRate: number;
  /** The shipped problems, when the host loaded them (the Node server does). */
  problems: ProblemIndex | null;
}

/** No knob set: hashed answers, no oracle. */
export const NO_ANSWER_OPTIONS: AnswerOptions = { minTokens: null, finalAnswers: null, oracle: null, hintLeakRate: 0, problems: null };

/**
 * Plans every choice. `maxTokens` is already resolved against the context
 * window; `nonce` makes sampled requests without a seed differ. Throws
 * StructuredOutputError when a JSON schema cannot be followed.
 */
export function planChoices(
  req: GenerationRequest,
  model: string,
  maxTokens: number,
  nonce: string,
  options: AnswerOptions = NO_ANSWER_OPTIONS,
): ChoicePlan[] {
  const plans: ChoicePlan[] = [];
  const minTokens = Math.max(req.minTokens, options.minTokens ?? 0);
  const answerKey = `${model}\u0000${req.promptText}`;
  const problem = options.oracle && options.problems && !options.finalAnswers ? findProblem(options.problems, req.question) : null;
  const hint = asksForHint(req.instructions);
  for (let index = 0; index < req.n; index++) {
    // Greedy (or seeded) sampling is reproducible; otherwise every request differs.
    const reproducible = req.temperature === 0 || req.seed !== null;
    const seedKey = [model, req.promptText, req.seed ?? "", req.temperature, index, reproducible ? "" : nonce].join("\u0000");
    const fixed = options.finalAnswers ? options.finalAnswers[index % options.finalAnswers.length] : undefined;
    const verdict = problem && options.oracle ? oracleAnswer(options.oracle, problem, index, req.seed) : null;
    const finalAnswer = fixed ?? verdict?.answer ?? defaultFinalAnswer(answerKey);

    let text: string;
    let split = tokenize;
    let oracleEnd: string | null = null;
    const structured = req.structured ? structuredText(req.structured, seedKey, finalAnswer) : null;
    if (structured !== null) {
      text = structured;
      split = tokenizeFine;
    } else if (hint) {
      text = generateHint({ seedKey, answer: finalAnswer, leakRate: options.hintLeakRate }).text;
    } else {
      text = generateAnswer({
        seedKey,
        answerKey,
        finalAnswer,
        question: req.question,
        // Never longer than max_tokens allows: a huge min_tokens must not build a huge text.
        minTokens: req.ignoreEos ? maxTokens : Math.min(minTokens, maxTokens),
      });
      if (verdict) oracleEnd = `\\boxed{${verdict.answer}}.`;
    }
    const ending = cut(text, maxTokens, req.stop, req.includeStopStr, split);
    // Counted only if the boxed oracle answer was sent whole: a cut answer has no final answer.
    const delivered = oracleEnd !== null && ending.stopReason === null && ending.tokens.join("").endsWith(oracleEnd);
    const oracle = verdict && delivered ? (verdict.correct ? "correct" : "wrong") : null;
    plans.push({ index, seedKey, oracle, ...ending });
  }
  return plans;
}

/** Applies `max_tokens`, then the earliest stop string within what was generated. */
export function cut(
  text: string,
  maxTokens: number,
  stop: readonly string[],
  includeStopStr = false,
  split: (text: string) => string[] = tokenize,
): Pick<ChoicePlan, "tokens" | "finishReason" | "stopReason"> {
  let tokens = split(text);
  let finishReason: ChoicePlan["finishReason"] = "stop";
  if (tokens.length > maxTokens) {
    tokens = tokens.slice(0, maxTokens);
    finishReason = "length";
  }
  const generated = tokens.join("");
  let at = -1;
  let stopReason: string | null = null;
  for (const s of stop) {
    const i = generated.indexOf(s);
    if (i !== -1 && (at === -1 || i < at)) {
      at = i;
      stopReason = s;
    }
  }
  if (stopReason === null) return { tokens, finishReason, stopReason };
  const kept = generated.slice(0, includeStopStr ? at + stopReason.length : at);
  return { tokens: split(kept), finishReason: "stop", stopReason };
}
