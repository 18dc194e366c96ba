/**
 * @module generations
 * The wire format of durable generations: the request fields that opt in to
 * the response cache and background mode, the `generation` object that
 * `GET /v1/generations/{id}` answers with, and the retention times.
 */
import * as z from "zod";

/** How long a cached answer is kept by default, in seconds (a day: a homework evening and the next morning). */
export const DEFAULT_CACHE_TTL_SECONDS = 24 * 3600;
/** Longest TTL a request may ask for, in seconds (7 days). */
export const MAX_CACHE_TTL_SECONDS = 7 * 24 * 3600;
/** How long a finished, uncached generation (streamed or background) stays readable, in seconds. */
export const GENERATION_RETENTION_SECONDS = 24 * 3600;
/**
 * How long a foreground generation outlives its last subscriber, in ms: long
 * enough for a phone to reconnect and resume, short enough that an abandoned
 * answer stops burning GPU time soon.
 */
export const DISCONNECT_GRACE_MS = 2_000;

/** The request field `cache` (an extension; OpenAI has none): opt in, share, or set the TTL. */
export const CacheOptionsSchema = z.strictObject({
  /** true: cache even a sampled request (the answer is then fixed for the TTL); false: never. */
  enabled: z.boolean().nullish(),
  /** `shared`: one cache for every account that also asks for `shared` (public problem sets). */
  scope: z.enum(["account", "shared"]).nullish(),
  ttl_seconds: z.number().int().min(1).max(MAX_CACHE_TTL_SECONDS).nullish(),
});
export type CacheOptions = z.infer<typeof CacheOptionsSchema>;

/** The request fields this module adds to both generation endpoints. */
export const generationFields = {
  /** Run without a connection: answer at once with the generation object (as OpenAI's Responses API). */
  background: z.boolean().nullish(),
  cache: CacheOptionsSchema.nullish(),
};

export const GENERATION_STATUSES = ["queued", "in_progress", "completed", "failed", "cancelled"] as const;
export type GenerationStatus = (typeof GENERATION_STATUSES)[number];

/** `x-cache`: how an answer was produced. */
export type CacheVerdict = "HIT" | "MISS" | "COALESCED";

export const GenerationObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal("generation"),
    status: z.enum(GENERATION_STATUSES),
    created_at: z.number().int().describe("Unix seconds"),
    completed_at: z.number().int().nullable(),
    expires_at: z.number().int().nullable().describe("Unix seconds after which the generation is forgotten"),
    model: z.string(),
    /** The chat.completion or text_completion, once completed. */
    result: z.unknown().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
  })
  .meta({ id: "Generation" });
export type GenerationObject = z.infer<typeof GenerationObjectSchema>;
