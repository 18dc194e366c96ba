/**
 * @module verdict
 * The answer of one comparison: equal, not equal, or undecided (null), with
 * the step that decided and a reason a tutor can show. Shared by the checker
 * and its CAS step (in the checker Worker).
 */

/** The step that decided. "undecided" goes with `equivalent: null`. */
export type CheckMethod =
  | "exact"
  | "normalized"
  | "numeric"
  | "choice"
  | "text"
  | "tuple"
  | "interval"
  | "set"
  | "matrix"
  | "equation"
  | "symbolic"
  | "undecided";

/** One comparison's outcome. */
export interface Verdict {
  /** True only when sure; false only when justified (e.g. two distinct numbers); otherwise null. */
  equivalent: boolean | null;
  method: CheckMethod;
  /** Why, in a few words ("0.5 = 1/2", "different numbers", "work budget spent"). */
  reason: string;
}

export function equal(method: CheckMethod, reason: string): Verdict {
  return { equivalent: true, method, reason };
}

export function different(method: CheckMethod, reason: string): Verdict {
  return { equivalent: false, method, reason };
}

export function undecided(reason: string): Verdict {
  return { equivalent: null, method: "undecided", reason };
}

/** Reasons that are part of the contract (the route maps some of them). */
export const BUDGET_SPENT = "work budget spent";
export const TOO_LONG = "answer too long";
