/**
 * @module eval-options
 * The command line of `npm run eval`, parsed into one options object. LIMO's
 * evaluation protocol is the default: its system prompt, greedy decoding
 * (temperature 0, top_p 1), max_tokens 32768, one sample; `--samples K`
 * switches to LIMO's sampling (temperature 0.7, top_p 0.95) unless the
 * temperature is given. Pure: tested in tests/node/eval-units.test.ts.
 */
import { parseArgs } from "node:util";
import { DEFAULT_TEMPERATURE, DEFAULT_TOP_P, LIMO_SYSTEM_PROMPT, MAX_MODEL_LEN_TOKENS } from "../../shared/constants";

export const EVAL_USAGE = `Usage: npm run eval -- --dataset math500|aime24|amc23|PATH.jsonl [options]

  --base-url URL         an OpenAI-compatible API (ours, a raw vLLM server, another provider);
                         without it the local stack is started on the simulator
  --api-key KEY          default: LIMO_API_KEY, then OPENAI_API_KEY (the embedded stack: its dev key)
  --model ID             default limo
  --limit N              the first N problems
  --concurrency C        requests in flight at once (default 8)
  --samples K            samples per problem (default 1); K > 1 reports pass@1, maj@K and pass@K
  --temperature T        default 0 (greedy), or 0.7 with --samples > 1
  --top-p P              default 1 at temperature 0, else 0.95
  --max-tokens M         default 32768 (the API grants what fits the context)
  --seed S               sample i is sent with seed S + i (default 0 when sampling, none when greedy),
                         so a sampled run can be repeated
  --system-prompt TEXT   default LIMO's: "${LIMO_SYSTEM_PROMPT}"
  --out DIR              where results.jsonl and the report go (default eval/runs/<dataset>-<time>)
  --resume               continue the run in --out: problems already done are skipped
  --cache                let the API answer from its cache (default: Cache-Control: no-store,
                         so every answer is generated and timed)
  --oracle-accuracy A    embedded stack only: the simulator answers correctly with probability A
  --oracle-seed S        the oracle's seed (default 1)
  --progress MODE        auto (a bar on a terminal, lines otherwise), bar, lines or none

Data sets: data/limo-eval/{math500,aime24,amc23}.jsonl, or any JSONL with "problem" (or
"question") and "answer" fields.`;

/** A mistake on the command line (exit code 2). */
export class EvalUsageError extends Error {}

export const BUILTIN_DATASETS = ["math500", "aime24", "amc23"] as const;
export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_MODEL = "limo";
/** LIMO's evaluation generates up to the whole context. */
export const DEFAULT_MAX_TOKENS = MAX_MODEL_LEN_TOKENS;
export const DEFAULT_ORACLE_SEED = 1;
/** The API takes at most this many concurrent requests from one client in practice; a typo of 8000 is refused. */
const MAX_CONCURRENCY = 256;
const MAX_SAMPLES = 1024;
/** vLLM takes a 64-bit seed; JSON numbers are exact up to 2^53. */
const MAX_SEED = Number.MAX_SAFE_INTEGER - MAX_SAMPLES;

export type ProgressMode = "auto" | "bar" | "lines" | "none";

/** What decides the answers: a resumed run must send exactly these again (the Idempotency-Key fingerprint). */
export interface Sampling {
  model: string;
  systemPrompt: string;
  temperature: number;
  topP: number;
  maxTokens: number;
  samples: number;
  /** Sample i is sent with `seed` seed + i; null sends none. */
  seed: number | null;
}

export interface EvalOptions extends Sampling {
  /** A built-in name or a path to a JSONL file. */
  dataset: string;
  baseUrl: string | null;
  apiKey: string | null;
  limit: number | null;
  concurrency: number;
  out: string | null;
  resume: boolean;
  cache: boolean;
  oracle: { accuracy: number; seed: number } | null;
  progress: ProgressMode;
  /** Which of the sampling settings were given on the command line (a resume checks only those). */
  explicit: ReadonlySet<keyof Sampling>;
}

const OPTIONS = {
  dataset: { type: "string" },
  "base-url": { type: "string" },
  "api-key": { type: "string" },
  model: { type: "string" },
  limit: { type: "string" },
  concurrency: { type: "string" },
  samples: { type: "string" },
  temperature: { type: "string" },
  "top-p": { type: "string" },
  "max-tokens": { type: "string" },
  seed: { type: "string" },
  "system-prompt": { type: "string" },
  out: { type: "string" },
  resume: { type: "boolean" },
  cache: { type: "boolean" },
  "oracle-accuracy": { type: "string" },
  "oracle-seed": { type: "string" },
  progress: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Parses argv (without node and the script); null for --help. `env` supplies the API key fallbacks. */
export function parseEvalArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): EvalOptions | null {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true }));
  } catch (err) {
    throw new EvalUsageError((err as Error).message);
  }
  if (values.help) return null;
  if (!values.dataset) throw new EvalUsageError("--dataset is required (math500, aime24, amc23 or a .jsonl path)");
  const explicit = new Set<keyof Sampling>();
  const samples = integer(values.samples, "--samples", 1, MAX_SAMPLES) ?? 1;
  const temperature = number(values.temperature, "--temperature", 0, 2) ?? (samples > 1 ? DEFAULT_TEMPERATURE : 0);
  // LIMO's eval.py forces top_p 1 when decoding greedily; sampling uses LIMO's recommended 0.95.
  const topP = number(values["top-p"], "--top-p", 0, 1) ?? (temperature === 0 ? 1 : DEFAULT_TOP_P);
  if (topP === 0) throw new EvalUsageError("--top-p must be above 0");
  const given: [keyof Sampling, unknown][] = [
    ["samples", values.samples], ["temperature", values.temperature], ["topP", values["top-p"]],
    ["maxTokens", values["max-tokens"]], ["systemPrompt", values["system-prompt"]], ["model", values.model], ["seed", values.seed],
  ];
  for (const [name, value] of given) if (value !== undefined) explicit.add(name);

  const oracleAccuracy = number(values["oracle-accuracy"], "--oracle-accuracy", 0, 1);
  const oracleSeed = integer(values["oracle-seed"], "--oracle-seed", 0, Number.MAX_SAFE_INTEGER);
  const baseUrl = values["base-url"] ? normaliseBaseUrl(values["base-url"]) : null;
  if (oracleAccuracy !== undefined && baseUrl) {
    throw new EvalUsageError("--oracle-accuracy drives the embedded simulator: leave out --base-url (or configure your simulator's /sim/config yourself)");
  }
  if (oracleSeed !== undefined && oracleAccuracy === undefined) throw new EvalUsageError("--oracle-seed needs --oracle-accuracy");
  if (values.resume && !values.out) throw new EvalUsageError("--resume needs --out DIR (the run to continue)");
  const progress = values.progress ?? "auto";
  if (!["auto", "bar", "lines", "none"].includes(progress)) throw new EvalUsageError("--progress must be auto, bar, lines or none");

  return {
    dataset: values.dataset,
    baseUrl,
    apiKey: values["api-key"] ?? env.LIMO_API_KEY ?? env.OPENAI_API_KEY ?? null,
    model: values.model ?? DEFAULT_MODEL,
    limit: integer(values.limit, "--limit", 1, Number.MAX_SAFE_INTEGER) ?? null,
    concurrency: integer(values.concurrency, "--concurrency", 1, MAX_CONCURRENCY) ?? DEFAULT_CONCURRENCY,
    samples,
    temperature,
    topP,
    maxTokens: integer(values["max-tokens"], "--max-tokens", 1, Number.MAX_SAFE_INTEGER) ?? DEFAULT_MAX_TOKENS,
    systemPrompt: values["system-prompt"] ?? LIMO_SYSTEM_PROMPT,
    // Independent, repeatable samples: vLLM seeds each request's sampler with its `seed`.
    seed: integer(values.seed, "--seed", 0, MAX_SEED) ?? (temperature > 0 ? 0 : null),
    out: values.out ?? null,
    resume: values.resume ?? false,
    cache: values.cache ?? false,
    oracle: oracleAccuracy === undefined ? null : { accuracy: oracleAccuracy, seed: oracleSeed ?? DEFAULT_ORACLE_SEED },
    progress: progress as ProgressMode,
    explicit,
  };
}

/**
 * An OpenAI-style base URL ends in `/v1`; a bare origin (`http://127.0.0.1:8787`)
 * gets it added, anything with a path is taken as given.
 */
export function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EvalUsageError(`--base-url is not a URL: ${raw}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new EvalUsageError("--base-url must be http or https");
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${path === "" ? "/v1" : path}`;
}

function number(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
    throw new EvalUsageError(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function integer(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  const value = number(raw, name, min, max);
  if (value !== undefined && !Number.isInteger(value)) throw new EvalUsageError(`${name} must be a whole number, got ${raw}`);
  return value;
}
