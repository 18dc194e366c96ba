/**
 * @module oracle
 * Oracle mode (`/sim/config {"oracle": {"accuracy", "seed"}}`): a problem of
 * the shipped evaluation sets, recognised by its text, is answered with its
 * reference answer with probability `accuracy`, now and then written in
 * another truly equal form, and otherwise with a truly unequal one. So an
 * evaluation harness run against the simulator has a known right answer.
 *
 * The problem index is handed in by whoever creates the simulator: the Node
 * server loads `data/limo-eval/*.jsonl` (problem-files.ts); the simulator the
 * Worker embeds for test-mode keys gets none, so the data sets never enter the
 * Worker's bundle, and there oracle mode leaves every answer at its default.
 * Only Web APIs here.
 */
import { equivalentForms, unequalForm } from "./answer-forms";
import { createRng, hashString } from "./prng";

/** One problem of a shipped data set. */
export interface ShippedProblem {
  /** `math500`, `aime24` or `amc23`. */
  dataset: string;
  /** The record's own id (`unique_id` or `id`). */
  id: string;
  /** The reference answer, as LIMO's evaluation reads it. */
  reference: string;
}

/** Problems by their normalised text. */
export interface ProblemIndex {
  /** Whole-text lookups: hash of the normalised problem text. */
  readonly byHash: ReadonlyMap<number, ShippedProblem>;
  /** Normalised texts, longest first, for problems quoted inside a longer prompt. */
  readonly texts: readonly { text: string; problem: ShippedProblem }[];
}

/** The `oracle` knob. */
export interface OracleSetting {
  accuracy: number;
  seed: number;
}

/** What the oracle decided for one choice. */
export interface OracleOutcome {
  problem: ShippedProblem;
  /** The final answer the choice ends in. */
  answer: string;
  correct: boolean;
}

/** Share of correct answers written in another equal form, so a checker is exercised. */
const REWRITTEN_FORM_RATE = 0.3;

/** Whitespace-insensitive, as a problem pasted into a chat may be re-wrapped. */
export function normaliseProblemText(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Builds the index from data-set records; later duplicates of a text are ignored. */
export function buildProblemIndex(records: readonly (ShippedProblem & { problem: string })[]): ProblemIndex {
  const byHash = new Map<number, ShippedProblem>();
  const texts: { text: string; problem: ShippedProblem }[] = [];
  for (const { problem, ...rest } of records) {
    const text = normaliseProblemText(problem);
    if (text === "" || byHash.has(hashString(text))) continue;
    byHash.set(hashString(text), rest);
    texts.push({ text, problem: rest });
  }
  texts.sort((a, b) => b.text.length - a.text.length);
  return { byHash, texts };
}

/** The shipped problem `text` is, or quotes (the longest one it contains), or null. */
export function findProblem(index: ProblemIndex, text: string): ShippedProblem | null {
  const normalised = normaliseProblemText(text);
  const exact = index.byHash.get(hashString(normalised));
  if (exact) return exact;
  for (const entry of index.texts) if (normalised.includes(entry.text)) return entry.problem;
  return null;
}

/**
 * Decides one choice's answer: a pure function of the oracle seed, the
 * problem, the choice index and the request's own seed, so a repeated
 * request gets the same verdict and the n choices of one request differ.
 */
export function oracleAnswer(setting: OracleSetting, problem: ShippedProblem, choice: number, requestSeed: number | null): OracleOutcome {
  const rng = createRng(["oracle", setting.seed, problem.dataset, problem.id, choice, requestSeed ?? ""].join("\u0000"));
  const correct = rng.next() < setting.accuracy;
  if (!correct) return { problem, answer: unequalForm(problem.reference), correct };
  const others = equivalentForms(problem.reference);
  const rewrite = others.length > 0 && rng.next() < REWRITTEN_FORM_RATE;
  return { problem, answer: rewrite ? rng.pick(others) : problem.reference, correct };
}
