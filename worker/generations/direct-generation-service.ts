/**
 * @module generate
 * The direct path: a non-streaming, uncacheable, foreground generation (every
 * other one is owned by a generation object, services/generations). Routes it
 * to a backend, assembles the JSON answer from the backend's stream, and tells
 * the meter exactly once how it ended (including when the backend failed
 * before the first token).
 */
import type { BackendConfig } from "../../shared/backends";
import type { Env } from "../env";
import { ApiError, ClientGoneError } from "../core/errors";
import { log } from "../core/log";
import type { ChatCompletion, Completion } from "../../shared/openai";
import { assembleResponse } from "../streams/completion-assembler";
import { backendError } from "../routing/backend-client";
import { candidateBackends, type Deployment } from "../routing/catalogue";
import { openRoutedStream, type RoutedStream } from "../routing/router";
import type { Meter } from "../accounts/ledger/metering";
import type { PreparedRequest } from "./prepare";
import type { GenerationOutcome } from "../routing/generation-outcome";

export interface GenerateContext {
  env: Env;
  requestId: string;
  /** The backends to route among (worker/routing/router.ts chooses, retries, waits out cold starts). */
  deployment: Deployment;
  mode: "live" | "test";
  /** Keeps slot releases alive after the response. */
  waitUntil: (promise: Promise<unknown>) => void;
  /** Fires when the client disconnects (needs the enable_request_signal flag). */
  clientSignal: AbortSignal;
  meter: Meter;
  /** Extra response headers (rate limits). */
  headers: Record<string, string>;
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Tells nginx-style proxies not to buffer the stream.
  "x-accel-buffering": "no",
} as const;

export async function generate(prepared: PreparedRequest, ctx: GenerateContext): Promise<Response> {
  const { meter } = ctx;
  // Billed to the backend that answered, or the last one tried (the first candidate if none was).
  let backend: BackendConfig = candidateBackends(ctx.deployment, prepared.model, ctx.mode)[0]!;
  let routed: RoutedStream | undefined;
  const upstreamAbort = new AbortController();
  const signal = AbortSignal.any([ctx.clientSignal, upstreamAbort.signal]);
  const startedAt = Date.now();
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
    meter.finish({ status, backend: backend.name, outcome, body });
  };
  const failBeforeAnswer = (err: unknown) => {
    const status =
      err instanceof ClientGoneError ? "client_disconnected" : err instanceof ApiError && err.code === "backend_timeout" ? "timeout" : "backend_error";
    meter.finish({ status, backend: backend.name, outcome: null });
  };

  const opened = openRoutedStream({
    env: ctx.env,
    deployment: ctx.deployment,
    model: prepared.model,
    mode: ctx.mode,
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
  finish(assembled.outcome, assembled.body);
  if (assembled.body) return Response.json(assembled.body, { headers: ctx.headers });
  if (assembled.outcome.status === "client_disconnected") throw new ClientGoneError();
  if (upstream.timedOut()) {
    throw new ApiError("backend_timeout", "The model backend stopped answering in time. Please retry.", {
      headers: { "retry-after": "5" },
      internal: `backend ${backend.name}: ${assembled.outcome.reason ?? "timeout"}`,
    });
  }
  throw backendError(backend, assembled.outcome.reason ?? "incomplete stream");
}
