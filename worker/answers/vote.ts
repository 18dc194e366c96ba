/**
 * @module vote
 * Majority voting over the final answers of n samples (self-consistency,
 * maj@k, as Qwen2.5-Math's evaluation does it), grouping by the checker's
 * equivalence rather than string equality, so `0.5` and `\frac12` vote
 * together. A choice without a final answer joins no group; an undecided
 * comparison (null) never merges two groups.
 */
import { DEFAULT_BATCH_WORK_UNITS, WorkBudget } from "./budget";
import { checkAnswer, type CheckOptions } from "./check";
import { normalizeAnswer } from "./normalize";

/** One group of equivalent answers. */
export interface VoteGroup {
  /** The group's representative: its first member, as written. */
  answer: string;
  count: number;
  /** Indexes of the choices in the group, ascending. */
  choices: number[];
}

export interface Vote {
  /** The largest group's answer, or null when no choice has a final answer. */
  answer: string | null;
  /** Size of the largest group (0 without one). */
  count: number;
  /** Number of choices voting, with or without an answer. */
  of: number;
  /** count / of (0 when of is 0). */
  agreement: number;
  /** Ordered by count (largest first), then by first index. */
  groups: VoteGroup[];
}

export type VoteOptions = Pick<CheckOptions, "symbolic" | "workUnits" | "budget" | "clock">;

/** Groups `finalAnswers` (one per choice, null for none) by equivalence and picks the largest group. */
export async function voteOnAnswers(finalAnswers: readonly (string | null)[], options: VoteOptions = {}): Promise<Vote> {
  const budget = options.budget ?? new WorkBudget(options.workUnits ?? DEFAULT_BATCH_WORK_UNITS, options.clock);
  const groups: (VoteGroup & { key: string })[] = [];
  for (const [index, answer] of finalAnswers.entries()) {
    if (answer === null || answer.trim() === "") continue;
    // Same canonical form and unit is the checker's "normalized" equality, without its cost.
    const n = normalizeAnswer(answer);
    const key = `${n.text}\u0000${n.unit ?? ""}`;
    let joined = groups.find((g) => g.key === key);
    for (const g of groups) {
      if (joined) break;
      const r = await checkAnswer(g.answer, answer, { symbolic: options.symbolic, budget });
      if (r.equivalent === true) joined = g;
    }
    if (joined) {
      joined.count++;
      joined.choices.push(index);
    } else groups.push({ key, answer, count: 1, choices: [index] });
  }
  const ordered = groups
    .map(({ answer, count, choices }) => ({ answer, count, choices }))
    .sort((a, b) => b.count - a.count || (a.choices[0] as number) - (b.choices[0] as number));
  const top = ordered[0];
  const of = finalAnswers.length;
  return { answer: top?.answer ?? null, count: top?.count ?? 0, of, agreement: of === 0 || !top ? 0 : top.count / of, groups: ordered };
}
