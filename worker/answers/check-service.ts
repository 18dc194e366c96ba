/**
 * @module check-service
 * `POST /v1/answers/check` once the route has validated the body: one call
 * to the account's object (the key authorized, one request counted against
 * its requests per minute and concurrency, zero tokens reserved), the checker
 * under its work budget, then the request's one ledger record: zero tokens,
 * model `answers.check` (ledger/settlement `checkSettlement`). Checks are not
 * billed in tokens.
 */
import { ANSWER_CHECK_MODEL, type AnswerCheckRequest, type AnswerCheckResponse } from "../../shared/answers";
import { settleUsage } from "../accounts/account-rpc";
import { checkSettlement } from "../accounts/ledger/settlement";
import { admitGeneration } from "../accounts/limits/admission-service";
import type { Credential } from "../accounts/principal";
import type { Env } from "../env";
import { checkAnswers, DEFAULT_BATCH_WORK_UNITS } from "./check";
import { remoteCas } from "./checker-rpc";

export interface CheckAsk {
  requestId: string;
  credential: Credential;
  request: AnswerCheckRequest;
  /** When the request arrived, Unix ms. */
  now: number;
  waitUntil: (promise: Promise<unknown>) => void;
}

/** The checker's answer and the rate-limit headers for it. */
export async function checkForAccount(env: Env, ask: CheckAsk): Promise<{ body: AnswerCheckResponse; headers: Record<string, string> }> {
  const admission = await admitGeneration(env, ask.credential, {
    requestId: ask.requestId,
    model: ANSWER_CHECK_MODEL,
    // No model, no tokens: n = 0 reserves nothing, so only requests per minute and concurrency apply.
    promptTokens: 0,
    n: 0,
    maxTokens: 0,
    maxTokensFlexible: false,
    now: ask.now,
  });
  // Without an Idempotency-Key there is nothing to replay.
  if (admission.kind !== "admitted") throw new Error("an answer check has no Idempotency-Key to replay");
  const { principal } = admission;
  const settle = (status: "ok" | "backend_error") =>
    ask.waitUntil(settleUsage(env, principal.accountId, checkSettlement({ requestId: ask.requestId, keyId: principal.keyId, endUser: principal.endUser ?? null, mode: principal.mode, startedAt: ask.now }, status, Date.now())));
  try {
    const { reference, candidates } = ask.request;
    // One budget for the whole call (DEFAULT_BATCH_WORK_UNITS, ~240 ms of CPU at most): past it, null.
    // Every step but the CAS runs here; the pairs that need it go to the checker Worker in one call.
    const results = await checkAnswers(reference, candidates, {
      extract: ask.request.extract === true,
      workUnits: DEFAULT_BATCH_WORK_UNITS,
      remote: remoteCas(env.CHECKER, ask.requestId),
    });
    settle("ok");
    return {
      body: { object: "answer.check", results: results.map((r, i) => ({ candidate: candidates[i]!, ...r })) },
      headers: admission.headers,
    };
  } catch (err) {
    settle("backend_error");
    throw err;
  }
}
