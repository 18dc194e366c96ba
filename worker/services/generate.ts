/**
 * @module generate
 * Runs one admitted generation against its backend: opens the backend stream,
 * then either relays it to a streaming client or assembles the JSON answer,
 * and tells the meter exactly once how it ended (including when the backend
 * failed before the first token).
 */
import type { BackendConfig } from "../../shared/backends";
import type { Env } from "../env";
import { ClientGoneError } from "../errors";
import { log } from "../log";
import type { ChatCompletion, Completion } from "../../shared/openai";
import { assembleResponse, CompletionAssembler } from "./assemble";
import { backendError, openBackendStream } from "./backend-client";
import type { Meter } from "./metering";
import type { PreparedRequest } from "./prepare";
import { relayStream, type GenerationOutcome } from "./stream-relay";

export interface GenerateContext {
  env: Env;
  requestId: string;
  backend: BackendConfig;
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
  const { backend, meter } = ctx;
  const upstreamAbort = new AbortController();
  const signal = AbortSignal.any([ctx.clientSignal, upstreamAbort.signal]);
  const startedAt = Date.now();
  const assembler = ctx.capture && prepared.stream ? new CompletionAssembler(prepared.endpoint) : undefined;
  const finish = (outcome: GenerationOutcome, body: ChatCompletion | Completion | null = null) => {
    log(outcome.status === "backend_error" ? "warn" : "info", "generation ended", {
      requestId: ctx.requestId,
      backend: backend.name,
      model: prepared.model.id,
      status: outcome.status,
      usage: outcome.usage,
      contentTokens: outcome.contentTokens,
      durationMs: Date.now() - startedAt,
      reason: outcome.reason,
    });
    meter.finish({ status: outcome.status, backend: backend.name, outcome, body: body ?? assembler?.build() ?? null });
  };

  let upstream: Response;
  try {
    upstream = await openBackendStream(backend, prepared.path, prepared.backendBody, ctx.env, signal);
  } catch (err) {
    const status = err instanceof ClientGoneError ? "client_disconnected" : "backend_error";
    meter.finish({ status, backend: backend.name, outcome: null });
    throw err;
  }
  const body = upstream.body!;

  if (prepared.stream) {
    const stream = relayStream(body, {
      includeUsage: prepared.includeUsage,
      assembler,
      abortUpstream: () => upstreamAbort.abort(),
      onEnd: finish,
    });
    return new Response(stream, { headers: { ...SSE_HEADERS, ...ctx.headers } });
  }

  const assembled = await assembleResponse(body, prepared.endpoint, signal);
  finish(assembled.outcome, assembled.body);
  if (assembled.body) return Response.json(assembled.body, { headers: ctx.headers });
  if (assembled.outcome.status === "client_disconnected") throw new ClientGoneError();
  throw backendError(backend, assembled.outcome.reason ?? "incomplete stream");
}

