/**
 * @module vote
 * Majority voting over the final answers of n samples (self-consistency,
 * maj@k, as Qwen2.5-Math's evaluation does it), grouping by the checker's
 * equivalence rather than string equality, so `0.5` and `\frac12` vote
 * together. A choice without a final answer joins no group; an undecided
 * comparison (null) never merges two groups.
 *
 * Without the CAS here, the vote is first taken with every other step; only
 * when some comparison was left undecided for want of the CAS is the whole
 * vote taken again by `remote` (the checker Worker), in one call, so the
 * grouping is exactly the one the CAS gives. A remote that is absent or fails
 * leaves the local vote, where those comparisons did not merge.
 */
import { DEFAULT_BATCH_WORK_UNITS, WorkBudget } from "./budget";
import { checkLocally, type CheckOptions } from "./check";
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

/** The remote's vote and the work it spent. */
export interface RemoteVoteAnswer {
  vote: Vote;
  workUnitsSpent: number;
}

/** Where a vote goes when a comparison needs the CAS and it is not here: the checker Worker (checker-rpc.ts). */
export interface RemoteVote {
  /** The whole vote, the CAS included, within `workUnits`; rejects when unreachable. */
  vote(finalAnswers: (string | null)[], workUnits: number): Promise<RemoteVoteAnswer>;
}

export interface VoteOptions extends Pick<CheckOptions, "cas" | "workUnits" | "budget" | "clock"> {
  /** Without `cas`: who takes the vote again when a comparison needed the CAS. */
  remote?: RemoteVote | null;
}

/** Groups `finalAnswers` (one per choice, null for none) by equivalence and picks the largest group. */
export async function voteOnAnswers(finalAnswers: readonly (string | null)[], options: VoteOptions = {}): Promise<Vote> {
  const budget = options.budget ?? new WorkBudget(options.workUnits ?? DEFAULT_BATCH_WORK_UNITS, options.clock);
  const units = budget.left;
  let casWanted = false;
  const groups: (VoteGroup & { key: string })[] = [];
  for (const [index, answer] of finalAnswers.entries()) {
    if (answer === null || answer.trim() === "") continue;
    // Same canonical form and unit is the checker's "normalized" equality, without its cost.
    const n = normalizeAnswer(answer);
    const key = `${n.text}\u0000${n.unit ?? ""}`;
    let joined = groups.find((g) => g.key === key);
    for (const g of groups) {
      if (joined) break;
      const { result, pending } = await checkLocally(g.answer, answer, { cas: options.cas ?? null }, budget);
      if (pending) casWanted = true;
      if (result.equivalent === true) joined = g;
    }
    if (joined) {
      joined.count++;
      joined.choices.push(index);
    } else groups.push({ key, answer, count: 1, choices: [index] });
  }
  const ordered = groups
    .map(({ answer, count, choices }) => ({ answer, count, choices }))
    .sort((a, b) => b.count - a.count || (a.choices[0] as number) - (b.choices[0] as number));
  if (casWanted && options.remote) {
    try {
      const { vote, workUnitsSpent } = await options.remote.vote([...finalAnswers], units);
      budget.spend(Math.max(0, workUnitsSpent - (units - budget.left)));
      return vote;
    } catch {
      // The remote logs why; the local vote stands, its undecided comparisons unmerged.
    }
  }
  const top = ordered[0];
  const of = finalAnswers.length;
  return { answer: top?.answer ?? null, count: top?.count ?? 0, of, agreement: of === 0 || !top ? 0 : top.count / of, groups: ordered };
}
