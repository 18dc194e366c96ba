/**
 * @module check
 * The answer checker: is a candidate answer equal to the reference? `true`
 * only when sure, `false` only with a reason (two different numbers, a
 * different letter, a missing root), otherwise `null` (DESIGN.md invariant 8:
 * a false "correct" tells a student a wrong answer is right). How each kind of
 * answer is decided is in worker/answers/README.md. Pure: no bindings.
 *
 * The CAS step is injected (cas.ts): `cas` runs it here (the checker Worker,
 * Node tools); without it, the pairs left undecided for want of the CAS go,
 * all in one call, to `remote` (the checker Worker, behind the main Worker's
 * service binding), which runs the whole pipeline on them with the CAS. A
 * remote that is absent or fails leaves them null with a reason, never a guess.
 */
import { DEFAULT_BATCH_WORK_UNITS, DEFAULT_CHECK_WORK_UNITS, WorkBudget, type BudgetClock } from "./budget";
import { CAS_UNAVAILABLE, type SymbolicComparer } from "./cas";
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

/** One comparison for a batch: the reference and a candidate (its final answer, extraction done). */
export interface CheckPair {
  reference: string;
  candidate: string;
}

/** What the remote CAS answers for a batch of pairs, and the work it spent on them. */
export interface RemoteCheckAnswer {
  results: CheckResult[];
  workUnitsSpent: number;
}

/** Where the pairs that need the CAS go when it is not here: the checker Worker (checker-rpc.ts). */
export interface RemoteCheck {
  /** The full pipeline, the CAS included, over `pairs` within `workUnits`; rejects when unreachable. */
  checkPairs(pairs: CheckPair[], workUnits: number): Promise<RemoteCheckAnswer>;
}

export interface CheckOptions {
  /** Read each candidate's final answer first (a whole solution, or free text such as "I got 12 apples"). */
  extract?: boolean;
  /** The CAS step (symbolic.ts `symbolicComparer`); null or absent: what needs it is undecided here. */
  cas?: SymbolicComparer | null;
  /** Without `cas`: where the pairs that need the CAS are sent, in one call per batch; absent: they stay null. */
  remote?: RemoteCheck | null;
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

/** One check done here: its result, and the pair to send on when it stopped for want of the CAS. */
export interface LocalCheck {
  result: CheckResult;
  /** Set when the result is undecided only because the CAS was not here. */
  pending: CheckPair | null;
  /** Work units this check spent here. */
  spent: number;
}

/** Is `candidate` the same answer as `reference`? */
export async function checkAnswer(reference: string, candidate: string, options: CheckOptions = {}): Promise<CheckResult> {
  const budget = options.budget ?? new WorkBudget(options.workUnits ?? DEFAULT_CHECK_WORK_UNITS, options.clock);
  const [result] = await checkPairs([{ reference, candidate }], { ...options, budget });
  return result as CheckResult;
}

/** `checkAnswer` for each candidate, in order, all sharing one budget (and at most one remote call). */
export async function checkAnswers(reference: string, candidates: readonly string[], options: CheckOptions = {}): Promise<CheckResult[]> {
  if (candidates.length > MAX_CHECK_CANDIDATES) throw new RangeError(`at most ${MAX_CHECK_CANDIDATES} candidates`);
  return checkPairs(candidates.map((candidate) => ({ reference, candidate })), options);
}

/**
 * Checks each pair in order under one budget: every step but the CAS here,
 * then the pairs left to the CAS in one `remote` call, whose answers replace theirs.
 */
export async function checkPairs(pairs: readonly CheckPair[], options: CheckOptions = {}): Promise<CheckResult[]> {
  const budget = options.budget ?? new WorkBudget(options.workUnits ?? DEFAULT_BATCH_WORK_UNITS, options.clock);
  const local: LocalCheck[] = [];
  for (const p of pairs) local.push(await checkLocally(p.reference, p.candidate, options, budget));
  const resolved = await resolvePending(local, options.remote ?? null, budget);
  return local.map((l, i) => resolved.get(i) ?? l.result);
}

/** One check without sending anything anywhere (what `checkPairs` does per pair before its remote call). */
export async function checkLocally(reference: string, raw: string, options: CheckOptions, budget: WorkBudget): Promise<LocalCheck> {
  const before = budget.spent;
  const done = (result: CheckResult, pending: CheckPair | null = null): LocalCheck => ({ result, pending, spent: budget.spent - before });
  let candidate = raw;
  let extracted: string | null | undefined;
  if (options.extract) {
    if (raw.length > MAX_ANSWER_CHARS * 16) return done(result(undecided(TOO_LONG), reference, raw, null));
    extracted = extractAnswer(raw);
    if (extracted === null) return done(result(undecided("no final answer in the candidate"), reference, "", null));
    candidate = extracted;
  }
  if (reference.length > MAX_ANSWER_CHARS || candidate.length > MAX_ANSWER_CHARS) return done(result(undecided(TOO_LONG), reference, candidate, extracted));
  if (!budget.spend(1 + ((reference.length + candidate.length) >> 6))) return done(result(undecided(BUDGET_SPENT), reference, candidate, extracted));
  if (reference.trim() === candidate.trim() && reference.trim() !== "") {
    return done(result(equal("exact", "identical"), reference.trim(), candidate.trim(), extracted));
  }
  const a = normalizeAnswer(reference);
  const b = normalizeAnswer(candidate);
  const need = { needed: false };
  const verdict = await decide(a, b, budget, options.cas ?? null, need);
  const r = result(verdict, a.text, b.text, extracted);
  // Only an undecided pair is worth the CAS: a "true" or a justified "false" holds whatever the CAS would add.
  return done(r, need.needed && verdict.equivalent === null ? { reference, candidate } : null);
}

/**
 * Sends the pending pairs of `local` in one call; their results by index.
 * The remote gets what is left of the budget plus what those pairs spent here
 * (it runs them again from the start), and its spending is charged back.
 */
export async function resolvePending(local: readonly LocalCheck[], remote: RemoteCheck | null, budget: WorkBudget): Promise<Map<number, CheckResult>> {
  const indexes = local.flatMap((l, i) => (l.pending ? [i] : []));
  const out = new Map<number, CheckResult>();
  if (indexes.length === 0) return out;
  const unavailable = () => {
    for (const i of indexes) out.set(i, { ...(local[i] as LocalCheck).result, equivalent: null, method: "undecided", reason: CAS_UNAVAILABLE });
    return out;
  };
  if (remote === null) return unavailable();
  const again = indexes.reduce((n, i) => n + (local[i] as LocalCheck).spent, 0);
  let answer: RemoteCheckAnswer;
  try {
    answer = await remote.checkPairs(indexes.map((i) => (local[i] as LocalCheck).pending as CheckPair), budget.left + again);
  } catch {
    // The remote logs why; here the pairs are only undecided.
    return unavailable();
  }
  if (answer.results.length !== indexes.length) return unavailable();
  budget.spend(Math.max(0, answer.workUnitsSpent - again));
  indexes.forEach((i, k) => {
    const mine = (local[i] as LocalCheck).result;
    const theirs = answer.results[k] as CheckResult;
    const merged: CheckResult = { equivalent: theirs.equivalent, method: theirs.method, reason: theirs.reason, normalized: theirs.normalized };
    if (mine.extracted !== undefined) merged.extracted = mine.extracted;
    out.set(i, merged);
  });
  return out;
}

async function decide(a: Normalized, b: Normalized, budget: WorkBudget, cas: SymbolicComparer | null, need: { needed: boolean }): Promise<Verdict> {
  if (a.text === "" || b.text === "") return a.text === b.text ? undecided("both empty") : different("normalized", "an empty answer");
  if (a.unit !== null && b.unit !== null && a.unit !== b.unit) return undecided(`units differ (${a.unit}, ${b.unit})`);
  if (a.text === b.text) return equal("normalized", "same after normalisation");
  return compareShapes(parseShape(a), parseShape(b), { budget, cas, need, ref: a, cand: b });
}

function result(v: Verdict, reference: string, candidate: string, extracted: string | null | undefined): CheckResult {
  const r: CheckResult = { equivalent: v.equivalent, method: v.method, reason: v.reason, normalized: { reference, candidate } };
  if (extracted !== undefined) r.extracted = extracted;
  return r;
}
