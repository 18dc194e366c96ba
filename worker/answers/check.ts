/**
 * @module check
 * The answer checker: is a candidate answer equal to the reference? `true`
 * only when sure, `false` only with a reason (two different numbers, a
 * different letter, a missing root), otherwise `null` (DESIGN.md invariant 8:
 * a false "correct" tells a student a wrong answer is right). How each kind of
 * answer is decided is in worker/answers/README.md. Pure: no bindings; the CAS
 * is loaded with a dynamic `import()` the first time an answer needs it.
 */
import { DEFAULT_BATCH_WORK_UNITS, DEFAULT_CHECK_WORK_UNITS, WorkBudget, type BudgetClock } from "./budget";
import { compareShapes } from "./compare";
import { extractAnswer } from "./extract";
import { normalizeAnswer, type Normalized } from "./normalize";
import { parseShape } from "./shape";
import { BUDGET_SPENT, different, equal, TOO_LONG, undecided, type CheckMethod, type Verdict } from "./verdict";

export type { CheckMethod } from "./verdict";
export { WorkBudget, DEFAULT_CHECK_WORK_UNITS, DEFAULT_BATCH_WORK_UNITS, type BudgetClock } from "./budget";

/** Most candidates one check request may carry (the route answers 400 beyond). */
export const MAX_CHECK_CANDIDATES = 64;
/** Longest reference or candidate, in UTF-16 code units (the route answers 400 beyond). */
export const MAX_ANSWER_CHARS = 4096;

export interface CheckOptions {
  /** Read each candidate's final answer first (a whole solution, or free text such as "I got 12 apples"). */
  extract?: boolean;
  /** May the CAS be loaded? Default true; false keeps a check to strings and numbers (null where the CAS is needed). */
  symbolic?: boolean;
  /** Work units for this call (default `DEFAULT_CHECK_WORK_UNITS`, or `DEFAULT_BATCH_WORK_UNITS` for a batch). */
  workUnits?: number;
  /** A budget shared with other calls (voting, the leak guard); takes precedence over `workUnits`. */
  budget?: WorkBudget;
  /** A wall-clock bound as well, where the runtime's clock advances during work. */
  clock?: BudgetClock;
}

export interface CheckResult {
  /** True when sure, false when justified, null when undecided (never a guess). */
  equivalent: boolean | null;
  /** The step that decided. */
  method: CheckMethod;
  /** Why, in a few words a tutor can show. */
  reason: string;
  /** The two answers as the checker read them (canonical LaTeX). */
  normalized: { reference: string; candidate: string };
  /** With `extract`: the final answer read from the candidate, or null when it has none. */
  extracted?: string | null;
}

/** Is `candidate` the same answer as `reference`? */
export async function checkAnswer(reference: string, candidate: string, options: CheckOptions = {}): Promise<CheckResult> {
  const budget = options.budget ?? new WorkBudget(options.workUnits ?? DEFAULT_CHECK_WORK_UNITS, options.clock);
  return checkWithin(reference, candidate, options, budget);
}

/** `checkAnswer` for each candidate, in order, all sharing one budget. */
export async function checkAnswers(reference: string, candidates: readonly string[], options: CheckOptions = {}): Promise<CheckResult[]> {
  if (candidates.length > MAX_CHECK_CANDIDATES) throw new RangeError(`at most ${MAX_CHECK_CANDIDATES} candidates`);
  const budget = options.budget ?? new WorkBudget(options.workUnits ?? DEFAULT_BATCH_WORK_UNITS, options.clock);
  const results: CheckResult[] = [];
  for (const c of candidates) results.push(await checkWithin(reference, c, options, budget));
  return results;
}

async function checkWithin(reference: string, raw: string, options: CheckOptions, budget: WorkBudget): Promise<CheckResult> {
  let candidate = raw;
  let extracted: string | null | undefined;
  if (options.extract) {
    if (raw.length > MAX_ANSWER_CHARS * 16) return result(undecided(TOO_LONG), reference, raw, null);
    extracted = extractAnswer(raw);
    if (extracted === null) return result(undecided("no final answer in the candidate"), reference, "", null);
    candidate = extracted;
  }
  if (reference.length > MAX_ANSWER_CHARS || candidate.length > MAX_ANSWER_CHARS) return result(undecided(TOO_LONG), reference, candidate, extracted);
  if (!budget.spend(1 + ((reference.length + candidate.length) >> 6))) return result(undecided(BUDGET_SPENT), reference, candidate, extracted);
  if (reference.trim() === candidate.trim() && reference.trim() !== "") {
    return result(equal("exact", "identical"), reference.trim(), candidate.trim(), extracted);
  }
  const a = normalizeAnswer(reference);
  const b = normalizeAnswer(candidate);
  const verdict = await decide(a, b, budget, options.symbolic ?? true);
  return result(verdict, a.text, b.text, extracted);
}

async function decide(a: Normalized, b: Normalized, budget: WorkBudget, symbolic: boolean): Promise<Verdict> {
  if (a.text === "" || b.text === "") return a.text === b.text ? undecided("both empty") : different("normalized", "an empty answer");
  if (a.unit !== null && b.unit !== null && a.unit !== b.unit) return undecided(`units differ (${a.unit}, ${b.unit})`);
  if (a.text === b.text) return equal("normalized", "same after normalisation");
  return compareShapes(parseShape(a), parseShape(b), { budget, symbolic, ref: a, cand: b });
}

function result(v: Verdict, reference: string, candidate: string, extracted: string | null | undefined): CheckResult {
  const r: CheckResult = { equivalent: v.equivalent, method: v.method, reason: v.reason, normalized: { reference, candidate } };
  if (extracted !== undefined) r.extracted = extracted;
  return r;
}
