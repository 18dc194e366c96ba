/**
 * @module config
 * The simulator's behaviour knobs (`/sim/config`): latency, capacity and the
 * failure modes a GPU backend can show. Every field has a default; a patch
 * that sets a field to `null` returns it to that default.
 */
import * as z from "zod";
import { FLEET_CONFIG_DEFAULTS, FLEET_CONFIG_SHAPE } from "./fleet/fleet-config";

/** Longest delay a test may ask for, so a typo cannot park a request for hours. */
const MAX_DELAY_MS = 10 * 60 * 1000;

const nonNegativeInt = () => z.number().int().min(0);
/** Longest `final_answers` entry, in characters: an answer, not a document. */
const MAX_FINAL_ANSWER_CHARS = 1024;
/** Most `final_answers` entries: far more than the largest `n`. */
const MAX_FINAL_ANSWERS = 64;
/** Half the hints leak by default, so a tutor guard meets both kinds without configuration. */
const DEFAULT_HINT_LEAK_RATE = 0.5;

/** The knobs with their wire types; every field optional and nullable in a patch. */
const SimConfigSchema = z.strictObject({
  /** Delay before the first token, after a slot is free (ms). */
  ttft_ms: z.number().min(0).max(MAX_DELAY_MS),
  /** Pace of each sequence; 0 = as fast as possible. */
  tokens_per_second: z.number().min(0),
  /**
   * vLLM's `--stream-interval`: a streamed choice sends its first token at
   * once, then a chunk each time this many tokens wait, and whatever waits
   * with its finish. 1 (vLLM's default) = a chunk per token. Read when a
   * request starts. See stream-interval.ts.
   */
  stream_interval: z.number().int().min(1),
  /** Answer 503 until this long after the first request the instance saw (ms). */
  cold_start_ms: z.number().min(0).max(MAX_DELAY_MS),
  /** Requests generating at once; the rest wait FIFO. null = unlimited. */
  max_concurrent: z.number().int().min(1).nullable(),
  /** Answer every /v1 request and /health with this status. null = healthy. */
  fail_status: z.number().int().min(400).max(599).nullable(),
  /** Break the connection after this many content tokens. */
  drop_after_tokens: nonNegativeInt().nullable(),
  /** Send an in-stream error event after this many content tokens. */
  error_after_tokens: nonNegativeInt().nullable(),
  /** Accept generation requests and never answer them. */
  hang: z.boolean(),
  /** Refuse /v1/* without Modal's proxy-auth headers (401). */
  require_proxy_auth: z.boolean(),
  /**
   * Every answer reasons at least this many tokens (still cut by max_tokens),
   * as if each request set vLLM's `min_tokens` to at least this. null = the
   * answer's natural length (80 to 400 tokens) unless a request asks.
   */
  min_tokens: nonNegativeInt().nullable(),
  /**
   * Choice `i` of every generation ends in `\boxed{final_answers[i mod length]}`
   * (and says the answer in its reasoning first). null = an answer fixed by a
   * hash of the prompt. Wins over `oracle`. See answer.ts.
   */
  final_answers: z.array(z.string().min(1).max(MAX_FINAL_ANSWER_CHARS)).min(1).max(MAX_FINAL_ANSWERS).nullable(),
  /**
   * Oracle mode for the shipped evaluation sets: a recognised problem ends in
   * its reference answer with probability `accuracy` (deterministic per
   * problem, choice and `seed`), else in a truly unequal one. null = off. See oracle.ts.
   */
  oracle: z.strictObject({ accuracy: z.number().min(0).max(1), seed: z.number().int() }).nullable(),
  /**
   * Under a tutoring system prompt that asks for a hint without the answer,
   * the share of choices whose hint still gives the answer away (in some
   * equivalent form). See tutor.ts.
   */
  hint_leak_rate: z.number().min(0).max(1),
  // ---- GPU fleet model (profile, Modal front, autoscaling): fleet/fleet-config.ts ----
  ...FLEET_CONFIG_SHAPE,
});

export type SimConfig = z.infer<typeof SimConfigSchema>;

/** A `/sim/config` body: any subset of the knobs, `null` meaning "default". */
export type SimConfigPatch = { [K in keyof SimConfig]?: SimConfig[K] | null };

/** Defaults that keep tests fast: no latency, no limits, no failures. */
export const BASE_SIM_CONFIG: Readonly<SimConfig> = Object.freeze({
  ttft_ms: 0,
  tokens_per_second: 0,
  // vLLM's default; the deployment's is VLLM_STREAM_INTERVAL (shared/constants.ts).
  stream_interval: 1,
  cold_start_ms: 0,
  max_concurrent: null,
  fail_status: null,
  drop_after_tokens: null,
  error_after_tokens: null,
  hang: false,
  require_proxy_auth: false,
  min_tokens: null,
  final_answers: null,
  oracle: null,
  hint_leak_rate: DEFAULT_HINT_LEAK_RATE,
  // ---- GPU fleet model: fleet/fleet-config.ts ----
  ...FLEET_CONFIG_DEFAULTS,
});

const SimConfigPatchSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(SimConfigSchema.shape).map(([key, schema]) => [key, schema.nullable().optional()]),
  ) as { [K in keyof SimConfig]: z.ZodOptional<z.ZodNullable<(typeof SimConfigSchema.shape)[K]>> },
);

/** Validates a patch; returns a readable message on failure. */
export function parseConfigPatch(body: unknown): { ok: true; patch: SimConfigPatch } | { ok: false; message: string } {
  const result = SimConfigPatchSchema.safeParse(body);
  if (result.success) return { ok: true, patch: result.data };
  return { ok: false, message: describeIssues(result.error.issues) };
}

/** Validates the `defaults` a simulator is created with (a partial config without nulls-as-reset). */
export function resolveDefaults(defaults: Partial<SimConfig> | undefined): SimConfig {
  const merged = { ...BASE_SIM_CONFIG, ...defaults };
  const result = SimConfigSchema.safeParse(merged);
  if (!result.success) throw new TypeError(`invalid simulator defaults: ${describeIssues(result.error.issues)}`);
  return result.data;
}

/** Applies a validated patch: absent fields stay, `null` fields return to `defaults`. */
export function applyConfigPatch(current: SimConfig, patch: SimConfigPatch, defaults: SimConfig): SimConfig {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    next[key] = value === null ? defaults[key as keyof SimConfig] : value;
  }
  return next as SimConfig;
}

/** One line per zod issue, `field: message`, as an error envelope's message. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string; code: string; keys?: readonly string[] }[]): string {
  return issues
    .map((issue) => {
      const where = issue.path.map(String).join(".") || "body";
      const extra = issue.code === "unrecognized_keys" && issue.keys ? ` (${issue.keys.join(", ")})` : "";
      return `${where}: ${issue.message}${extra}`;
    })
    .join("; ");
}
