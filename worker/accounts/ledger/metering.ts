/**
 * @module metering
 * Turns how a generation ended into the one usage record of its request, and
 * settles it with the account's object after the response, at no cost to the
 * client. The record says what the client was given:
 *
 * - `ok`: the backend's own usage chunk.
 * - `client_disconnected`: the prompt (our conservative estimate: the backend
 *   never sent its count) and the completion tokens relayed before the client left.
 * - `backend_error` / `timeout`: only the completion tokens delivered; no prompt,
 *   since we failed to give the answer.
 * - Non-streaming clients are given nothing until the whole answer is ready.
 */
import type { ChatCompletion, Completion } from "../../../shared/openai";
import type { UsageStatus } from "../../../shared/usage";
import type { SettleRequest } from "../account-rpc";
import { accountObject } from "../account-do";
import type { Env } from "../../env";
import { log } from "../../core/log";
import type { Principal } from "../auth-service";
import type { GenerationOutcome } from "../../routing/generation-outcome";

/** Settle attempts before leaving it to the reservation's expiry alarm. */
const SETTLE_ATTEMPTS = 3;
const SETTLE_RETRY_DELAY_MS = 200;

export interface MeterContext {
  env: Pick<Env, "ACCOUNTS">;
  waitUntil: (promise: Promise<unknown>) => void;
  principal: Principal;
  requestId: string;
  model: string;
  promptTokensEstimate: number;
  /** Whether the client streams: a non-streaming client is given nothing short of the whole answer. */
  streaming: boolean;
  /** The request's Idempotency-Key, whose answer the settlement stores (or releases). */
  idempotencyKey?: string;
}

/** What the meter needs to know at the end. */
export interface MeteredEnd {
  status: UsageStatus;
  backend: string;
  outcome: GenerationOutcome | null;
  /** The whole answer, when it was kept (Idempotency-Key). */
  body?: ChatCompletion | Completion | null;
}

export class Meter {
  readonly #ctx: MeterContext;
  readonly #startedAt = Date.now();
  #done = false;
  #resolve!: () => void;

  constructor(ctx: MeterContext) {
    this.#ctx = ctx;
    // Registered now, so the runtime keeps the request alive until the record is written.
    ctx.waitUntil(new Promise<void>((resolve) => (this.#resolve = resolve)));
  }

  /** Records the end once; later calls are ignored. */
  finish(end: MeteredEnd): void {
    if (this.#done) return;
    this.#done = true;
    const request = this.#record(end);
    void this.#settle(request).finally(() => this.#resolve());
  }

  #record({ status, backend, outcome, body }: MeteredEnd): SettleRequest {
    const now = Date.now();
    const delivered = this.#ctx.streaming || status === "ok" ? (outcome?.contentTokens ?? 0) : 0;
    let promptTokens = 0;
    let completionTokens = delivered;
    if (status === "ok" && outcome?.usage) {
      promptTokens = outcome.usage.prompt_tokens;
      completionTokens = outcome.usage.completion_tokens;
    } else if (status === "client_disconnected") {
      promptTokens = this.#ctx.promptTokensEstimate;
    }
    const { principal } = this.#ctx;
    return {
      requestId: this.#ctx.requestId,
      keyId: principal.keyId,
      model: this.#ctx.model,
      backend,
      mode: principal.mode,
      promptTokens,
      completionTokens,
      cached: false,
      status,
      ttftMs: outcome?.firstTokenAt != null ? outcome.firstTokenAt - this.#startedAt : null,
      durationMs: now - this.#startedAt,
      now,
      // Only a whole answer is replayed; after any failure a retry runs again.
      idempotency: this.#ctx.idempotencyKey
        ? { key: this.#ctx.idempotencyKey, response: status === "ok" && body ? JSON.stringify(body) : null }
        : undefined,
    };
  }

  #settle(request: SettleRequest): Promise<void> {
    return settleUsage(this.#ctx.env, this.#ctx.principal.accountId, request);
  }
}

/**
 * Writes one request's usage record through its account's object, retrying a
 * few times; if every attempt fails, the reservation's expiry alarm settles it
 * (conservatively), so nothing is lost.
 */
export async function settleUsage(env: Pick<Env, "ACCOUNTS">, accountId: string, request: SettleRequest): Promise<void> {
  const account = accountObject(env, accountId);
  for (let attempt = 1; ; attempt++) {
    try {
      await account.settle(request);
      return;
    } catch (err) {
      if (attempt >= SETTLE_ATTEMPTS) {
        log("error", "settling usage failed", { requestId: request.requestId, error: String(err) });
        return;
      }
      await new Promise((r) => setTimeout(r, SETTLE_RETRY_DELAY_MS * attempt));
    }
  }
}
