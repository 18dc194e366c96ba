/**
 * @module answers
 * The wire format of the answer features (issue 12): the request field `vote`
 * (an extension like `cache`/`background`: never sent to the backend), the
 * `final_answer` every choice carries, the top-level `vote` object, and the
 * `POST /v1/answers/check` request and answer. The checker's limits are
 * repeated here (the Worker's checker asserts they agree) because `shared/`
 * imports nothing of `worker/`.
 */
import * as z from "zod";
import { MAX_CHOICES_N } from "./constants";

/** Most candidates one `POST /v1/answers/check` may carry (worker/answers/check.ts `MAX_CHECK_CANDIDATES`). */
export const MAX_CHECK_CANDIDATES = 64;
/** Longest reference or candidate, in UTF-16 code units (worker/answers/check.ts `MAX_ANSWER_CHARS`, 4 KiB). */
export const MAX_ANSWER_CHARS = 4096;

/**
 * The names of the answer routes, as a client token's allow-list names them
 * (issue 13's client tokens opt routes in by these names).
 */
export const ANSWER_ROUTES = { check: "answers.check" } as const;
export type AnswerRoute = (typeof ANSWER_ROUTES)[keyof typeof ANSWER_ROUTES];

/**
 * The `model` a check's usage record names: a check uses no model and no
 * tokens, and its one ledger record (zero tokens) says what it was by this name.
 */
export const ANSWER_CHECK_MODEL = "answers.check";

/** `vote`: `true` (with `n` >= 2), or `{n}`, which sets `n`. */
export const VoteOptionSchema = z.union([
  z.boolean(),
  z.strictObject({ n: z.number().int().min(2).max(MAX_CHOICES_N).describe("Samples to vote over (sets `n`)") }),
]);
export type VoteOption = z.infer<typeof VoteOptionSchema>;

/** The request fields this module adds to both generation endpoints (spread into shared/openai.ts's shared fields). */
export const answerFields = {
  /** Majority voting over the `n` choices by answer equivalence: adds a top-level `vote`. */
  vote: VoteOptionSchema.nullish(),
};

/** One group of equivalent final answers. */
export interface VoteGroupObject {
  /** The group's representative: its first member, as written. */
  answer: string;
  count: number;
  /** Indexes of the choices in the group, ascending. */
  choices: number[];
}

/** The top-level `vote` of a voted completion (worker/answers/vote.ts `Vote`). */
export interface VoteObject {
  /** The largest group's answer, or null when no choice has a final answer. */
  answer: string | null;
  count: number;
  /** Choices voting, with or without a final answer. */
  of: number;
  agreement: number;
  groups: VoteGroupObject[];
}

/** What every choice of a completion carries besides OpenAI's fields. */
export interface AnswerChoiceFields {
  /** The content of the last `\boxed{}` (or `\fbox{}`), braces matched; null when there is none (a cut answer). */
  final_answer?: string | null;
}

/** A completion (or chunk) with the answer fields on its choices and, when voted, its `vote`. */
export type WithAnswers<T extends { choices: readonly object[] }> = Omit<T, "choices"> & {
  choices: (T["choices"][number] & AnswerChoiceFields)[];
  vote?: VoteObject;
};

const answerText = (what: string) => z.string().max(MAX_ANSWER_CHARS, `at most ${MAX_ANSWER_CHARS} characters`).describe(what);

export const AnswerCheckRequestSchema = z
  .strictObject({
    reference: answerText("The right answer (LaTeX or plain text)"),
    candidates: z
      .array(answerText("An answer to grade (with `extract`, a whole solution or free text)"))
      .min(1)
      .max(MAX_CHECK_CANDIDATES, `at most ${MAX_CHECK_CANDIDATES} candidates`),
    extract: z.boolean().nullish().describe("Read each candidate's final answer first (a solution, or \"I got 12 apples\")"),
  })
  .meta({ id: "AnswerCheckRequest" });
export type AnswerCheckRequest = z.infer<typeof AnswerCheckRequestSchema>;

export const CHECK_METHODS = [
  "exact", "normalized", "numeric", "choice", "text", "tuple", "interval", "set", "matrix", "equation", "symbolic", "undecided",
] as const;

export const AnswerCheckResultSchema = z
  .object({
    candidate: z.string(),
    equivalent: z.boolean().nullable().describe("true only when sure; false with a reason; null when undecided within the budget (never a guess)"),
    method: z.enum(CHECK_METHODS).describe("The step that decided"),
    reason: z.string(),
    normalized: z.object({ reference: z.string(), candidate: z.string() }),
    extracted: z.string().nullable().optional().describe("With `extract`: the final answer read from the candidate"),
  })
  .meta({ id: "AnswerCheckResult" });

export const AnswerCheckResponseSchema = z
  .object({ object: z.literal("answer.check"), results: z.array(AnswerCheckResultSchema) })
  .meta({ id: "AnswerCheck" });
export type AnswerCheckResponse = z.infer<typeof AnswerCheckResponseSchema>;
