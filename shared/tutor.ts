/**
 * @module tutor
 * The wire format of tutor modes (issue 14): the `tutor` field a chat request
 * may carry and the `tutor` object its answer (or its stream's finishing
 * chunk) carries back. In shared/ because the request schema is (shared/openai
 * imports this); the behaviour is worker/tutoring.
 */
import { z } from "zod";

/** Longest `reference_answer`, in bytes (UTF-8): an answer, not a document (the checker's own limit, 4 KiB). */
export const MAX_REFERENCE_ANSWER_BYTES = 4096;

export const TUTOR_MODES = ["hint", "check"] as const;
export type TutorMode = (typeof TUTOR_MODES)[number];

/** `"tutor": {"mode": "hint" | "check", "reference_answer"?: string}` on `/v1/chat/completions`. */
export const TutorRequestSchema = z.strictObject({
  mode: z.enum(TUTOR_MODES),
  reference_answer: z
    .string()
    .trim()
    .min(1)
    .refine((s) => new TextEncoder().encode(s).length <= MAX_REFERENCE_ANSWER_BYTES, `must be at most ${MAX_REFERENCE_ANSWER_BYTES} bytes`)
    .nullish(),
});

export type TutorRequest = z.infer<typeof TutorRequestSchema>;

/** Where the answer the guard withholds came from. */
export type ReferenceSource = "request" | "solve";

/** One billed generation of a tutor request: each is its own usage-ledger record, under its own request id. */
export interface TutorGeneration {
  request_id: string;
  /** `solve`: the hidden solve; `attempt`: a hint or feedback generation (the first, or a regeneration after a leak). */
  purpose: "solve" | "attempt";
  /** Answered from the cache (a finished identical generation). */
  cached: boolean;
}

/** The `tutor` object of a tutor answer. */
export interface TutorResult {
  mode: TutorMode;
  /** Check mode only: the student's answer against the reference (null: the checker could not decide). */
  correct?: boolean | null;
  /** Spans of the served text replaced by `[answer withheld]`. */
  redactions: number;
  /** Generations discarded because they leaked (JSON only; a stream cannot take back what it sent, so 0). */
  regenerations: number;
  reference_source: ReferenceSource;
  /** Every generation billed for this answer; `usage` is their sum. */
  generations: TutorGeneration[];
}
