/**
 * @module generate
 * Runs one generation against its backend: opens the backend stream, then
 * either relays it to a streaming client or assembles the JSON answer, and
 * reports how it ended exactly once.
 */
import type { Env } from "../env";
import { log } from "../log";
import { ClientGoneError } from "../errors";
import { backendError, openBackendStream } from "./backend-client";
import { assembleResponse } from "./assemble";
import type { PreparedRequest } from "./prepare";
import { relayStream, type GenerationOutcome } from "./stream-relay";

export interface GenerateContext {
  env: Env;
  requestId: string;
  /** Fires when the client disconnects (needs the enable_request_signal flag). */
  clientSignal: AbortSignal;
  /** Told once how the generation ended (usage settlement hooks in here). */
  onEnd?: (outcome: GenerationOutcome) => void;
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Tells nginx-style proxies not to buffer the stream.
  "x-accel-buffering": "no",
} as const;

export async function generate(prepared: PreparedRequest, ctx: GenerateContext): Promise<Response> {
  const { backend } = prepared.resolved;
  const upstreamAbort = new AbortController();
  const signal = AbortSignal.any([ctx.clientSignal, upstreamAbort.signal]);
  const startedAt = Date.now();
  const finish = (outcome: GenerationOutcome) => {
    log(outcome.status === "backend_error" ? "warn" : "info", "generation ended", {
      requestId: ctx.requestId,
      backend: backend.name,
      model: prepared.resolved.model.id,
      status: outcome.status,
      usage: outcome.usage,
      chunks: outcome.chunks,
      durationMs: Date.now() - startedAt,
      reason: outcome.reason,
    });
    ctx.onEnd?.(outcome);
  };

  const upstream = await openBackendStream(backend, prepared.path, prepared.backendBody, ctx.env, signal);
  const body = upstream.body!;

  if (prepared.stream) {
    const stream = relayStream(body, {
      includeUsage: prepared.includeUsage,
      abortUpstream: () => upstreamAbort.abort(),
      onEnd: finish,
    });
    return new Response(stream, { headers: SSE_HEADERS });
  }

  const assembled = await assembleResponse(body, prepared.endpoint, signal);
  finish(assembled.outcome);
  if (assembled.body) return Response.json(assembled.body);
  if (assembled.outcome.status === "client_disconnected") throw new ClientGoneError();
  throw backendError(backend, assembled.outcome.reason ?? "incomplete stream");
}

