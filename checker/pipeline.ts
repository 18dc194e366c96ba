/**
 * @module checker/pipeline
 * What the checker Worker runs: the whole check pipeline and the vote with
 * the CAS (symbolic.ts) injected, each call under a work budget capped here
 * whatever the caller asks. Also usable in-process as a `RemoteCas` by Node
 * tools (bench/tutor-guard.ts), where bundle size does not matter.
 */
import { checkPairs, DEFAULT_BATCH_WORK_UNITS, MAX_ANSWER_CHARS, WorkBudget, type CheckPair, type RemoteCheckAnswer } from "../worker/answers/check";
import { MAX_REMOTE_PAIRS, MAX_REMOTE_VOTE_ANSWERS, type RemoteCas } from "../worker/answers/remote-cas";
import { symbolicComparer } from "../worker/answers/symbolic";
import { voteOnAnswers, type RemoteVoteAnswer } from "../worker/answers/vote";

/** Most work units one call may spend, whatever it asks: one batch's default (~240 ms of CPU). */
export const MAX_CALL_WORK_UNITS = DEFAULT_BATCH_WORK_UNITS;

/** The full check, CAS included, of each pair in order under one budget. */
export async function checkPairsWithCas(pairs: CheckPair[], workUnits: number): Promise<RemoteCheckAnswer> {
  if (!Array.isArray(pairs) || pairs.length > MAX_REMOTE_PAIRS) throw new RangeError(`at most ${MAX_REMOTE_PAIRS} pairs`);
  const clean = pairs.map((p) => ({ reference: String(p.reference), candidate: String(p.candidate) }));
  const budget = callBudget(workUnits);
  // checkPairs's own limits answer null for a side over MAX_ANSWER_CHARS: nothing longer is parsed.
  const results = await checkPairs(clean, { cas: symbolicComparer, budget });
  return { results, workUnitsSpent: budget.spent };
}

/** The whole vote, CAS included, under one budget. */
export async function voteWithCas(finalAnswers: (string | null)[], workUnits: number): Promise<RemoteVoteAnswer> {
  if (!Array.isArray(finalAnswers) || finalAnswers.length > MAX_REMOTE_VOTE_ANSWERS) throw new RangeError(`at most ${MAX_REMOTE_VOTE_ANSWERS} answers`);
  // A final answer too long to be one is no answer (it joins no group).
  const answers = finalAnswers.map((a) => (typeof a === "string" && a.length <= MAX_ANSWER_CHARS ? a : null));
  const budget = callBudget(workUnits);
  const vote = await voteOnAnswers(answers, { cas: symbolicComparer, budget });
  return { vote, workUnitsSpent: budget.spent };
}

/** The checker in this process: what the binding gives the main Worker, without the RPC. */
export const inProcessChecker: RemoteCas = { checkPairs: checkPairsWithCas, vote: voteWithCas };

function callBudget(workUnits: number): WorkBudget {
  const units = Number.isFinite(workUnits) ? Math.max(0, Math.min(workUnits, MAX_CALL_WORK_UNITS)) : 0;
  return new WorkBudget(units);
}
