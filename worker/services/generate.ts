/**
 * @module generate
 * Runs one admitted generation against its backend: opens the backend stream,
 * then either relays it to a streaming client or assembles the JSON answer,
 * and tells the meter exactly once how it ended (including when the backend
 * failed before the first token).
 */
import type { BackendConfig } from "../../shared/backends";
import type { Env } from "../env";
import { ApiError, ClientGoneError } from "../errors";
import { log } from "../log";
import type { ChatCompletion, Completion } from "../../shared/openai";
import { assembleResponse, CompletionAssembler } from "./assemble";
import { backendError } from "./backend-client";
import { candidateBackends, type Deployment } from "./catalogue";
import { holdingStream } from "../routing/hold";
import { routingPolicy } from "../routing/policy";
import { openRoutedStream, type RoutedStream } from "../routing/router";
import type { Meter } from "./metering";
import type { PreparedRequest } from "./prepare";
import { relayStream, type GenerationOutcome } from "./stream-relay";

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
  /** Keep the whole answer for the meter (an Idempotency-Key's replay). */
  capture: boolean;
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
  const assembler = ctx.capture && prepared.stream ? new CompletionAssembler(prepared.endpoint) : undefined;
  const finish = (outcome: GenerationOutcome, body: ChatCompletion | Completion | null = null) => {
    const status = outcome.status === "backend_error" && routed?.timedOut() ? "timeout" : outcome.status;
    log(status === "ok" || status === "client_disconnected" ? "info" : "warn", "generation ended", {
      requestId: ctx.requestId,
      backend: backend.name,
      model: prepared.model.id,
      status,
      usage: outcome.usage,
      contentTokens: outcome.contentTokens,
      durationMs: Date.now() - startedAt,
      reason: outcome.reason,
    });
    meter.finish({ status, backend: backend.name, outcome, body: body ?? assembler?.build() ?? null });
  };
  const failBeforeAnswer = (err: unknown) => {
    const status =
      err instanceof ClientGoneError ? "client_disconnected" : err instanceof ApiError && err.code === "backend_timeout" ? "timeout" : "backend_error";
    meter.finish({ status, backend: backend.name, outcome: null });
  };

  let onWaiting: () => void = () => {};
  const waiting = new Promise<null>((resolve) => (onWaiting = () => resolve(null)));
  const opened = openRoutedStream({
    env: ctx.env,
    deployment: ctx.deployment,
    model: prepared.model,
    mode: ctx.mode,
    path: prepared.path,
    body: prepared.backendBody,
    signal,
    priority: prepared.stream ? "interactive" : "background",
    onWaiting: () => onWaiting(),
    onAttempt: (b) => (backend = b),
    waitUntil: ctx.waitUntil,
  }).then((r) => (routed = r));

  const relay = (body: ReadableStream<Uint8Array>) =>
    relayStream(body, {
      includeUsage: prepared.includeUsage,
      assembler,
      abortUpstream: () => upstreamAbort.abort(),
      onEnd: finish,
    });

  if (prepared.stream) {
    // Every backend cold: answer at once with keep-alive comments, then the events once one is up.
    const first = await Promise.race([opened.catch((err: unknown) => ({ err })), waiting]);
    if (first === null) {
      const ready = opened.then((r) => relay(r.response.body!)).catch((err: unknown) => {
        failBeforeAnswer(err);
        throw err;
      });
      ready.catch(() => {});
      const stream = holdingStream({ ready, intervalMs: routingPolicy(ctx.env).keepaliveIntervalMs, onCancel: () => upstreamAbort.abort() });
      return new Response(stream, { headers: { ...SSE_HEADERS, ...ctx.headers } });
    }
    if ("err" in first) {
      failBeforeAnswer(first.err);
      throw first.err;
    }
    return new Response(relay(first.response.body!), { headers: { ...SSE_HEADERS, ...ctx.headers } });
  }

  let upstream: RoutedStream;
  try {
    upstream = await opened;
  } catch (err) {
    failBeforeAnswer(err);
    throw err;
  }
  const assembled = await assembleResponse(upstream.response.body!, prepared.endpoint, signal);
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
