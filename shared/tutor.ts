/**
 * @module tutor
 * The wire format of tutor modes (issue 14): the `tutor` field a chat request
 * may carry and the `tutor` object its answer (or its stream's finishing
 * chunk) carries back. In shared/ because the request schema is (shared/openai
 * imports this); the behaviour is worker/tutoring.
 */
import * as z from "zod";

/** Longest `reference_answer`, in bytes (UTF-8): an answer, not a document (the checker's own limit, 4 KiB). */
export const MAX_REFERENCE_ANSWER_BYTES = 4096;

export const TUTOR_MODES = ["hint", "check"] as const;
export type TutorMode = (typeof TUTOR_MODES)[number];

/** `"tutor": {"mode": "hint" | "check", "reference_answer"?: string}` on `/v1/chat/completions`. */
export const TutorRequestSchema = z.strictObject({
  mode: z.enum(TUTOR_MODES).describe("`hint`: one hint for the student's next step; `check`: the student's answer (from the last user message) checked, with feedback"),
  reference_answer: z
    .string()
    .trim()
    .min(1)
    .refine((s) => new TextEncoder().encode(s).length <= MAX_REFERENCE_ANSWER_BYTES, `must be at most ${MAX_REFERENCE_ANSWER_BYTES} bytes`)
    .nullish()
    .describe("The answer to withhold (at most 4 KiB). Absent: a hidden solve of the conversation's first user message finds it (billed, cached as any generation)"),
}).meta({ id: "TutorRequest", description: "A tutor mode: the answer is never sent, in any form the answer checker finds equal, JSON or streamed." });

export type TutorRequest = z.infer<typeof TutorRequestSchema>;

/** Where the answer the guard withholds came from. */
export type ReferenceSource = "request" | "solve";

/** One billed generation of a tutor request: each is its own usage-ledger record, under its own request id. */
export const TutorGenerationSchema = z.object({
  request_id: z.string().describe("The usage-ledger record's request id: `<x-request-id>-solve`, `<x-request-id>`, `<x-request-id>-retry<k>`"),
  purpose: z.enum(["solve", "attempt"]).describe("`solve`: the hidden solve; `attempt`: a hint or feedback generation (the first, or a regeneration after a leak)"),
  cached: z.boolean().describe("Answered from the cache (a finished identical generation)"),
});
export type TutorGeneration = z.infer<typeof TutorGenerationSchema>;

/** The `tutor` object of a tutor answer (on the `chat.completion`, or on a stream's finishing chunk). */
export const TutorResultSchema = z
  .object({
    mode: z.enum(TUTOR_MODES),
    correct: z.boolean().nullable().optional().describe("Check mode only: the student's answer against the reference; null when the checker could not decide"),
    redactions: z.number().int().describe("Spans of the served text replaced by `[answer withheld]`"),
    regenerations: z.number().int().describe("Generations discarded because they leaked (JSON only: a stream cannot take back what it sent, so 0)"),
    reference_source: z.enum(["request", "solve"]).describe("`request`: `tutor.reference_answer`; `solve`: the final answer of a hidden solve"),
    generations: z.array(TutorGenerationSchema).describe("Every generation billed for this answer; `usage` is their sum"),
  })
  .meta({ id: "TutorResult", description: "What a tutor mode did. Never contains the reference answer or the student's answer." });
export type TutorResult = z.infer<typeof TutorResultSchema>;
