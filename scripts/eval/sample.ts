/**
 * @module eval-sample
 * One sample of one problem: LIMO's request (its system prompt, the problem
 * as the user message), the answer graded, and the results.jsonl row with
 * what it cost. The Idempotency-Key is the run id, the problem and the
 * sample, so the same sample asked again (a retry, a resume) is the same
 * request to the API, which replays it instead of billing it twice.
 */
import { createHash } from "node:crypto";
import { costMicroUsd } from "../../shared/usage";
import { requestCompletion, type ClientDeps, type Completion } from "./client";
import type { Problem } from "./dataset";
import { gradeResponse } from "./grade";
import type { Sampling } from "./options";
import { publicModelId } from "./published";
import type { ResultRow } from "./results";

/** Live keys of our API; every other key it accepts (test keys, the dev key) is never billed. */
const LIVE_KEY_PREFIX = "limo_sk_";

export interface SampleContext {
  runId: string;
  baseUrl: string;
  apiKey: string;
  sampling: Sampling;
  cache: boolean;
  /** The API is ours: its ledger's prices and test mode apply. */
  ours: boolean;
}

/** The ledger bills this run's tokens (a live key of our API); otherwise costs are list prices only. */
export function isBilled(ctx: SampleContext): boolean {
  return ctx.ours && ctx.apiKey.startsWith(LIVE_KEY_PREFIX);
}

export function idempotencyKey(runId: string, problemId: string, sample: number): string {
  const problem = createHash("sha256").update(problemId).digest("hex").slice(0, 16);
  return `limo-eval-${runId}-${problem}-${sample}`;
}

/** The chat request LIMO's evaluation sends (eval.py with --surround_with_messages). */
export function requestBody(sampling: Sampling, problem: Problem, sample: number): Record<string, unknown> {
  return {
    model: sampling.model,
    messages: [
      { role: "system", content: sampling.systemPrompt },
      { role: "user", content: problem.problem },
    ],
    temperature: sampling.temperature,
    top_p: sampling.topP,
    max_tokens: sampling.maxTokens,
    ...(sampling.seed === null ? {} : { seed: sampling.seed + sample }),
  };
}

/** Runs one sample to its row, or null when it was aborted (a second Ctrl-C): nothing is recorded then. */
export async function runSample(ctx: SampleContext, problem: Problem, sample: number, deps: ClientDeps): Promise<ResultRow | null> {
  const key = idempotencyKey(ctx.runId, problem.id, sample);
  const outcome = await requestCompletion(
    { baseUrl: ctx.baseUrl, apiKey: ctx.apiKey, body: requestBody(ctx.sampling, problem, sample), idempotencyKey: key, cache: ctx.cache },
    deps,
  );
  const base = {
    problem_id: problem.id,
    problem_index: problem.index,
    sample,
    reference: problem.reference,
    subject: problem.subject,
    level: problem.level,
    attempts: outcome.attempts,
    idempotency_key: key,
    finished_at: deps.clock.now(),
  };
  if (!outcome.ok) {
    if ("aborted" in outcome) return null;
    return {
      ...base, status: "error", prediction: null, extracted_answer: null, api_final_answer: null, correct: null, check_method: null,
      finish_reason: null, prompt_tokens: 0, completion_tokens: 0, latency_ms: null, ttft_ms: null, request_id: null, served_model: null,
      cache: null, replayed: false, cost_micro_usd: null, list_cost_micro_usd: null, error: outcome.error, error_status: outcome.status,
    };
  }
  const c = outcome.completion;
  const grade = await gradeResponse(problem.reference, c.text);
  return {
    ...base,
    status: "ok",
    prediction: c.text,
    extracted_answer: grade.extracted,
    api_final_answer: c.apiFinalAnswer,
    correct: grade.correct,
    check_method: grade.method,
    finish_reason: c.finishReason,
    prompt_tokens: c.promptTokens,
    completion_tokens: c.completionTokens,
    latency_ms: c.latencyMs,
    ttft_ms: c.ttftMs,
    request_id: c.requestId,
    served_model: c.servedModel,
    cache: c.cacheStatus,
    replayed: c.replayed,
    ...costs(ctx, c),
    error: null,
    error_status: null,
  };
}

/**
 * The ledger's cost of this answer (shared/usage.ts costMicroUsd) and its
 * price at live rates. A replay was billed when first answered, so it
 * carries that first answer's cost: the rows of a run add up to its bill.
 */
function costs(ctx: SampleContext, c: Completion): { cost_micro_usd: number | null; list_cost_micro_usd: number | null } {
  const model = publicModelId(c.servedModel) ?? publicModelId(ctx.sampling.model);
  const cached = !c.replayed && (c.cacheStatus === "HIT" || c.cacheStatus === "COALESCED");
  const list = model === null ? null : costMicroUsd(model, "live", c.promptTokens, c.completionTokens, cached);
  if (!ctx.ours) return { cost_micro_usd: null, list_cost_micro_usd: list };
  const mode = isBilled(ctx) ? "live" : "test";
  return { cost_micro_usd: model === null ? null : costMicroUsd(model, mode, c.promptTokens, c.completionTokens, cached), list_cost_micro_usd: list };
}
