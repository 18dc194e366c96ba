/**
 * @module eval-grade
 * Grading with the API's own answer modules (worker/answers: pure, no
 * bindings), so the harness grades exactly as the API's checker does, also
 * when it evaluates a raw vLLM server or another provider. The prediction is
 * LIMO's extraction (last `\boxed{}`, then its fallbacks); an answer the
 * checker cannot decide is `null`: counted as wrong, reported apart.
 */
import { checkAnswer } from "../../worker/answers/check";
import { extractAnswer } from "../../worker/answers/extract";
import { symbolicComparer } from "../../worker/answers/symbolic";
import { voteOnAnswers } from "../../worker/answers/vote";

export interface Grade {
  extracted: string | null;
  correct: boolean | null;
  method: string;
}

/** Extracts the final answer from a whole response and checks it against the reference. */
export async function gradeResponse(reference: string, text: string): Promise<Grade> {
  const extracted = extractAnswer(text);
  if (extracted === null) return { extracted, correct: false, method: "no_answer" };
  const verdict = await checkAnswer(reference, extracted, { cas: symbolicComparer });
  return { extracted, correct: verdict.equivalent, method: verdict.method };
}

export interface MajorityVote {
  answer: string | null;
  count: number;
  of: number;
  correct: boolean | null;
  method: string;
}

/** maj@K: the answer most samples agree on (grouped by equivalence, as the API's `vote`), checked against the reference. */
export async function gradeMajority(reference: string, extracted: readonly (string | null)[]): Promise<MajorityVote> {
  const vote = await voteOnAnswers([...extracted], { cas: symbolicComparer });
  if (vote.answer === null) return { answer: null, count: 0, of: vote.of, correct: false, method: "no_answer" };
  const verdict = await checkAnswer(reference, vote.answer, { cas: symbolicComparer });
  return { answer: vote.answer, count: vote.count, of: vote.of, correct: verdict.equivalent, method: verdict.method };
}
