/**
 * @module tutor-service
 * Tutor modes on a chat request (issue 14): a hint, or a check of the
 * student's answer with feedback, that never gives the reference answer away
 * (DESIGN.md invariant 9).
 *
 * Every generation it makes is an ordinary one through the completion
 * service: admitted against the account's limits, settled as its own usage
 * record under its own request id (`<id>-solve`, `<id>`, `<id>-retry<k>`), so
 * each admitted generation has exactly one record and the tutor answer's
 * `usage` is their sum. In order:
 * 1. Without `reference_answer`, the hidden solve: the conversation's first
 *    user message with LIMO's own prompt at temperature 0 (LIMO's evaluation
 *    setting), so it is cacheable by the ordinary rules and a second student
 *    asking about the same problem costs no second solve. Its last `\boxed{}`
 *    is the reference; a solve without one is a 422 (nothing to guard with).
 * 2. Check mode: the student's answer against the reference (checkAnswer; the
 *    CAS step, when needed, in the checker Worker: answers/checker-rpc).
 * 3. The tutor generation (never cached: its text is raw, only the guard's
 *    output may reach the student), with the tutoring prompt. JSON: a leak
 *    (a `\boxed{}`, or anything the checker does not rule out as the
 *    reference) discards it and generates again, up to
 *    `TUTOR_MAX_REGENERATIONS` times, then the leaks are redacted. Streams:
 *    one generation, relayed through the leak guard.
 *
 * The entry point takes a validated chat request and answers a chat-style
 * Response (JSON `chat.completion` or its SSE) with `tutor` added, so another
 * endpoint (Responses) can translate into it and out of it.
 */
import { DEFAULT_TEMPERATURE } from "../../shared/constants";
import type { ChatCompletion, ChatCompletionRequest, Usage } from "../../shared/openai";
import type { TutorGeneration, TutorResult } from "../../shared/tutor";
import type { UsageEndpoint } from "../../shared/usage";
import { checkAnswer } from "../answers/check";
import { remoteCas } from "../answers/checker-rpc";
import { lastBoxedAnswer } from "../answers/extract";
import type { Credential } from "../accounts/principal";
import { ApiError } from "../core/errors";
import { SSE_HEADERS } from "../core/sse-headers";
import type { Env } from "../env";
import { createCompletion } from "../generations/completion-service";
import { prepareChat } from "../generations/prepare";
import type { CatalogueModel } from "../../shared/constants";
import type { Deployment } from "../routing/catalogue";
import { guardedChatStream, guardText, sumUsage } from "./guarded-relay";
import { checkPrompt, hintPrompt, tutorMessages } from "./prompts";
import { planTutorRequest, type TutorPlan } from "./tutor-request";

/** Regenerations after a leak when `TUTOR_MAX_REGENERATIONS` is unset. */
export const DEFAULT_TUTOR_MAX_REGENERATIONS = 2;
/** The most `TUTOR_MAX_REGENERATIONS` may allow: each is a billed generation. */
const MAX_TUTOR_REGENERATIONS = 5;

export interface TutorAsk {
  requestId: string;
  credential: Credential;
  deployment: Deployment;
  model: CatalogueModel;
  /** The validated chat request, `tutor` set. */
  request: ChatCompletionRequest;
  /** The deployment's LIMO prompt override (the hidden solve's prompt). */
  systemPrompt?: string;
  cacheControl: string | undefined;
  admittedAt: number;
  clientSignal: AbortSignal;
  waitUntil: (promise: Promise<unknown>) => void;
  /** The endpoint the client called, for each generation's ledger record (default: chat completions). */
  endpoint?: UsageEndpoint;
}

/** Headers of an inner generation's response that do not describe the tutor answer. */
const INNER_ONLY_HEADERS = new Set(["content-type", "content-length", "x-generation-id", "x-cache", "idempotent-replayed"]);

/** `TUTOR_MAX_REGENERATIONS`, bounded. */
export function maxRegenerations(env: Pick<Env, "TUTOR_MAX_REGENERATIONS">): number {
  const n = Number(env.TUTOR_MAX_REGENERATIONS ?? "");
  if (env.TUTOR_MAX_REGENERATIONS === undefined || env.TUTOR_MAX_REGENERATIONS === "" || !Number.isInteger(n) || n < 0) return DEFAULT_TUTOR_MAX_REGENERATIONS;
  return Math.min(n, MAX_TUTOR_REGENERATIONS);
}

/** A tutor mode's answer: JSON or SSE, as the request asked. Refusals come before any generation. */
export async function createTutorCompletion(env: Env, ask: TutorAsk): Promise<Response> {
  const plan = planTutorRequest(ask.request as ChatCompletionRequest & Record<string, unknown>);
  // Refuse a conversation too long for the tutor prompt before anything is billed.
  prepareChat(attemptRequest(ask.request, plan, "", null, 0), ask.model);
  const generations: TutorGeneration[] = [];
  const usages: Usage[] = [];
  const generate = async (request: ChatCompletionRequest, requestId: string, purpose: TutorGeneration["purpose"], systemPrompt?: string) => {
    const response = await createCompletion(env, {
      requestId,
      credential: ask.credential,
      deployment: ask.deployment,
      prepared: { ...prepareChat(request, ask.model, systemPrompt), ...(ask.endpoint ? { ledgerEndpoint: ask.endpoint } : {}) },
      request,
      cacheControl: ask.cacheControl,
      admittedAt: Date.now(),
      clientSignal: ask.clientSignal,
      waitUntil: ask.waitUntil,
    });
    generations.push({ request_id: requestId, purpose, cached: response.headers.get("x-cache") === "HIT" || response.headers.get("x-cache") === "COALESCED" });
    return response;
  };

  let reference = plan.reference;
  if (reference === null) {
    const solve = (await (await generate(solveRequest(ask.request, plan), `${ask.requestId}-solve`, "solve", ask.systemPrompt)).json()) as ChatCompletion;
    usages.push(solve.usage);
    reference = lastBoxedAnswer(solve.choices[0]?.message.content ?? "");
    if (reference === null) {
      throw new ApiError(
        "tutor_reference_unavailable",
        "The hidden solve of this problem ended without a final answer, so there is no answer to withhold and no hint is served unguarded. Send 'tutor.reference_answer', or retry.",
        { param: "tutor.reference_answer" },
      );
    }
  }
  const remote = remoteCas(env.CHECKER, ask.requestId);
  const correct = plan.mode === "check" ? (await checkAnswer(reference, plan.studentAnswer!, { remote })).equivalent : null;
  const result = (redactions: number, regenerations: number): TutorResult => ({
    mode: plan.mode,
    ...(plan.mode === "check" ? { correct } : {}),
    redactions,
    regenerations,
    reference_source: plan.reference === null ? "solve" : "request",
    generations,
  });

  if (ask.request.stream === true) {
    const response = await generate(attemptRequest(ask.request, plan, reference, correct, 0), ask.requestId, "attempt");
    const stream = guardedChatStream(response.body!, {
      reference,
      remote,
      includeUsage: ask.request.stream_options?.include_usage === true,
      earlierUsage: usages,
      tutor: (redactions) => result(redactions, 0),
    });
    return new Response(stream, { headers: { ...SSE_HEADERS, ...outerHeaders(response) } });
  }

  const limit = maxRegenerations(env);
  for (let attempt = 0; ; attempt++) {
    const id = attempt === 0 ? ask.requestId : `${ask.requestId}-retry${attempt}`;
    const response = await generate(attemptRequest(ask.request, plan, reference, correct, attempt), id, "attempt");
    const body = (await response.json()) as ChatCompletion;
    usages.push(body.usage);
    const choice = body.choices[0]!;
    const guarded = await guardText(choice.message.content, reference, remote);
    if (guarded.leaks.length > 0 && attempt < limit) continue;
    const answer: ChatCompletion & { tutor: TutorResult } = {
      id: body.id,
      object: "chat.completion",
      created: body.created,
      model: body.model,
      // Built field by field: nothing of the raw choice (a `final_answer`, logprobs) passes.
      choices: [{ index: 0, message: { role: "assistant", content: guarded.text }, logprobs: null, finish_reason: choice.finish_reason, stop_reason: choice.stop_reason ?? null }],
      usage: sumUsage(usages),
      tutor: result(guarded.leaks.length, attempt),
    };
    return Response.json(answer, { headers: outerHeaders(response) });
  }
}

/** Fields that say who asks (the end user, for limits and the ledger), kept on the hidden solve. */
const IDENTITY_FIELDS = ["user", "safety_identifier"] as const;

/**
 * The hidden solve: the problem alone, LIMO's prompt and sampling, greedy, so
 * it is the very request a plain client asking the problem would make (and
 * meets its cache entry); the request's cache options and end user apply.
 */
function solveRequest(request: ChatCompletionRequest, plan: TutorPlan): ChatCompletionRequest {
  const identity: Record<string, unknown> = {};
  for (const field of IDENTITY_FIELDS) {
    const value = (request as Record<string, unknown>)[field];
    if (value !== undefined && value !== null) identity[field] = value;
  }
  return { ...identity, model: request.model, messages: [{ role: "user", content: plan.problem }], temperature: 0, cache: request.cache };
}

/**
 * One tutor generation: the client's sampling, the tutoring prompt, one
 * choice, never cached, usage always (the answer's usage is the total). A
 * regeneration of a greedy request samples at LIMO's default temperature, and
 * a seeded one moves its seed: the same sampling would write the same leak.
 */
function attemptRequest(request: ChatCompletionRequest, plan: TutorPlan, reference: string, correct: boolean | null, attempt: number): ChatCompletionRequest {
  const { tutor: _tutor, ...rest } = request;
  const system = plan.mode === "hint" ? hintPrompt(reference) : checkPrompt(reference, correct);
  return {
    ...rest,
    messages: tutorMessages(system, request.messages),
    n: 1,
    cache: { enabled: false },
    stream_options: request.stream === true ? { include_usage: true } : null,
    ...(attempt > 0 && request.temperature === 0 ? { temperature: DEFAULT_TEMPERATURE } : {}),
    ...(attempt > 0 && request.seed != null ? { seed: request.seed + attempt } : {}),
  };
}

function outerHeaders(inner: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  inner.headers.forEach((value, name) => {
    if (!INNER_ONLY_HEADERS.has(name.toLowerCase())) headers[name] = value;
  });
  return headers;
}
