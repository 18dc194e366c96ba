/**
 * @module cas
 * The CAS step as a capability, not an import: the checker takes a
 * `SymbolicComparer` (symbolic.ts's, in the checker Worker and in Node
 * tools) or null. With null, a comparison that needs the CAS is undecided
 * with the reason `NEEDS_CAS` and marks its `CasNeed`, so the caller can send
 * just those pairs to the checker Worker (checker-rpc.ts). That keeps the
 * main Worker's module graph free of `@cortex-js/compute-engine` (about 1.2 MiB
 * gzipped, ~180 ms of start-up): `.dependency-cruiser.cjs` `cas-outside-the-worker`.
 */
import type { WorkBudget } from "./budget";
import type { Verdict } from "./verdict";

/** What symbolic.ts provides: both compare LaTeX with the CAS under the shared budget. */
export interface SymbolicComparer {
  /** Two scalar expressions; `approximate` when a side is a rounded decimal. */
  compareExpressions(reference: string, candidate: string, budget: WorkBudget, approximate: boolean): Verdict;
  /** Two equations `[lhs, rhs]`, as the zero sets of lhs - rhs. */
  compareEquations(reference: [string, string], candidate: [string, string], budget: WorkBudget): Verdict;
}

/** The reason of a comparison left undecided for want of the CAS. */
export const NEEDS_CAS = "needs the CAS";
/** The reason when the pairs that need the CAS could not reach it (no binding, the checker Worker failing). */
export const CAS_UNAVAILABLE = "needs the CAS, and the answer checker is unavailable";

/** Set by any step that stopped for want of the CAS, during one check. */
export interface CasNeed {
  needed: boolean;
}
