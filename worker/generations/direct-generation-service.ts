/**
 * @module direct-generation-service
 * The direct path: a non-streaming, uncacheable, foreground generation (every
 * other one is owned by a generation object: durable-generation-service).
 * Routes it to a backend, assembles the JSON answer from the backend's
 * stream, and settles its one usage record exactly once (ledger/settlement),
 * including when the backend failed before the first token.
 */
import type { BackendConfig } from "../../shared/backends";
import type { ChatCompletion, Completion } from "../../shared/openai";
import type { UsageStatus } from "../../shared/usage";
import { settleUsage } from "../accounts/account-rpc";
import { remoteCas } from "../answers/checker-rpc";
import { givenTokens, settlement, type GenerationEnd } from "../accounts/ledger/settlement";
import type { Principal } from "../accounts/principal";
import { ApiError, ClientGoneError } from "../core/errors";
import { log } from "../core/log";
import type { Env } from "../env";
import { assembleResponse } from "../routing/assemble-response";
import { backendError } from "../routing/backend-client";
import { candidateBackends, type Deployment } from "../routing/catalogue";
import type { GenerationOutcome } from "../routing/generation-outcome";
import { openRoutedStream, type RoutedStream } from "../routing/router";
import { withVote } from "./voting";
import type { PreparedRequest } from "./prepare";

export interface DirectContext {
  env: Env;
  requestId: string;
  /** The backends to route among (worker/routing/router.ts chooses, retries, waits out cold starts). */
  deployment: Deployment;
  principal: Principal;
  /** Keeps slot releases and the settlement alive after the response. */
  waitUntil: (promise: Promise<unknown>) => void;
  /** Fires when the client disconnects (needs the enable_request_signal flag). */
  clientSignal: AbortSignal;
  /** The request's Idempotency-Key, whose answer the settlement stores (or releases). */
  idempotencyKey?: string;
  /** Extra response headers (rate limits). */
  headers: Record<string, string>;
  /** The request asked for `vote`: the answer gets a top-level `vote` over its choices. */
  vote?: boolean;
}

export async function generateDirect(prepared: PreparedRequest, ctx: DirectContext): Promise<Response> {
  const startedAt = Date.now();
  const settle = settleOnce(ctx, prepared, startedAt);
  // Billed to the backend that answered, or the last one tried (the first candidate if none was).
  let backend: BackendConfig = candidateBackends(ctx.deployment, prepared.model, ctx.principal.mode)[0]!;
  let routed: RoutedStream | undefined;
  const upstreamAbort = new AbortController();
  const signal = AbortSignal.any([ctx.clientSignal, upstreamAbort.signal]);
  const finish = (outcome: GenerationOutcome, body: ChatCompletion | Completion | null = null) => {
    const status = outcome.status === "backend_error" && routed?.timedOut() ? "timeout" : outcome.status;
    // A generation that ended well is in the usage ledger, field for field; the log carries what needs a look.
    if (status !== "ok") log(status === "client_disconnected" ? "info" : "warn", "generation ended", {
      requestId: ctx.requestId,
      backend: backend.name,
      model: prepared.model.id,
      status,
      usage: outcome.usage,
      contentTokens: outcome.contentTokens,
      durationMs: Date.now() - startedAt,
      reason: outcome.reason,
    });
    settle({
      status,
      usage: outcome.usage,
      givenTokens: givenTokens(prepared.stream || status === "ok", outcome.contentTokens),
      givenAll: status === "ok",
      cached: false,
      backend: backend.name,
      firstTokenAt: outcome.firstTokenAt,
      answer: () => body,
    });
  };
  const failBeforeAnswer = (err: unknown) => {
    const status: UsageStatus =
      err instanceof ClientGoneError ? "client_disconnected" : err instanceof ApiError && err.code === "backend_timeout" ? "timeout" : "backend_error";
    settle({ status, usage: null, givenTokens: 0, givenAll: false, cached: false, backend: backend.name, firstTokenAt: null });
  };

  const opened = openRoutedStream({
    env: ctx.env,
    deployment: ctx.deployment,
    model: prepared.model,
    mode: ctx.principal.mode,
    path: prepared.path,
    body: prepared.backendBody,
    signal,
    priority: prepared.stream ? "interactive" : "background",
    onAttempt: (b) => (backend = b),
    waitUntil: ctx.waitUntil,
  }).then((r) => (routed = r));

  let upstream: RoutedStream;
  try {
    upstream = await opened;
  } catch (err) {
    failBeforeAnswer(err);
    throw err;
  }
  const assembled = await assembleResponse(upstream.body, prepared.endpoint, signal);
  const body = assembled.body && ctx.vote ? await withVote(assembled.body, remoteCas(ctx.env.CHECKER, ctx.requestId)) : assembled.body;
  finish(assembled.outcome, body);
  if (body) return Response.json(body, { headers: ctx.headers });
  if (assembled.outcome.status === "client_disconnected") throw new ClientGoneError();
  if (upstream.timedOut()) {
    throw new ApiError("backend_timeout", "The model backend stopped answering in time. Please retry.", {
      headers: { "retry-after": "5" },
      internal: `backend ${backend.name}: ${assembled.outcome.reason ?? "timeout"}`,
    });
  }
  throw backendError(backend, assembled.outcome.reason ?? "incomplete stream");
}

/** Settles the request's one record the first time it is called, keeping the request alive until it is written. */
function settleOnce(ctx: DirectContext, prepared: PreparedRequest, startedAt: number): (end: GenerationEnd) => void {
  let written!: () => void;
  // Registered now, so the runtime keeps the request alive until the record is written.
  ctx.waitUntil(new Promise<void>((resolve) => (written = resolve)));
  let settled = false;
  return (end) => {
    if (settled) return;
    settled = true;
    const request = {
      requestId: ctx.requestId,
      keyId: ctx.principal.keyId,
      endUser: ctx.principal.endUser ?? null,
      mode: ctx.principal.mode,
      model: prepared.model.id,
      endpoint: prepared.ledgerEndpoint,
      promptTokensEstimate: prepared.promptTokensEstimate,
      idempotencyKey: ctx.idempotencyKey,
      startedAt,
    };
    void settleUsage(ctx.env, ctx.principal.accountId, settlement(request, end, Date.now())).finally(written);
  };
}
