/**
 * @module eval-client
 * One chat completion over any OpenAI-compatible API, streamed (so a
 * 30-minute answer shows progress and no proxy times the request out), with
 * the retries of retry.ts. Every attempt of a sample carries the same
 * `Idempotency-Key`, so an attempt the server finished but whose answer was
 * lost is replayed by our API, not generated and billed again. A 429 holds a
 * gate shared by every worker until the server's Retry-After has passed, so
 * concurrent workers do not hammer a rate-limited account.
 */
import { SSE_DONE, SseSplitter, sseData } from "../../shared/sse";
import { decideRetry, type AttemptFailure } from "./retry";

/** No byte for this long (our API sends keep-alives through cold starts) aborts the attempt as failed. */
const STREAM_IDLE_TIMEOUT_MS = 10 * 60_000;

/** Time, injected so tests control the waits. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
};

/** Shared by every worker: after a 429 nobody sends before `notBefore`. */
export class RateGate {
  #notBefore = 0;
  hold(until: number): void {
    this.#notBefore = Math.max(this.#notBefore, until);
  }
  async pass(clock: Clock, signal?: AbortSignal): Promise<void> {
    for (let wait = this.#notBefore - clock.now(); wait > 0; wait = this.#notBefore - clock.now()) await clock.sleep(wait, signal);
  }
}

export interface CompletionRequest {
  /** OpenAI-style, ending in /v1. */
  baseUrl: string;
  apiKey: string;
  body: Record<string, unknown>;
  idempotencyKey: string;
  /** false: `Cache-Control: no-store`, every answer generated afresh. */
  cache: boolean;
}

export interface Completion {
  text: string;
  finishReason: string | null;
  /** The API's own `final_answer` on the choice (ours does; others send none). */
  apiFinalAnswer: string | null;
  promptTokens: number;
  completionTokens: number;
  /** The served model the responses name. */
  servedModel: string | null;
  requestId: string | null;
  /** `x-cache`: HIT, MISS, COALESCED, or null when the API sends none. */
  cacheStatus: string | null;
  /** An Idempotency-Key replay of an earlier attempt (billed then, not now). */
  replayed: boolean;
  ttftMs: number | null;
  latencyMs: number;
}

/** One attempt that did not give an answer, as results.jsonl records it. */
export interface AttemptRecord {
  status: number | null;
  error: string;
  /** What the server asked us to wait (ms), when it said. */
  server_wait_ms: number | null;
  /** What we waited before the next attempt (ms); null when there was none. */
  waited_ms: number | null;
}

export type CompletionOutcome =
  | { ok: true; completion: Completion; attempts: AttemptRecord[] }
  | { ok: false; error: string; status: number | null; attempts: AttemptRecord[] }
  | { ok: false; aborted: true; attempts: AttemptRecord[] };

export interface ClientDeps {
  fetch: typeof fetch;
  clock: Clock;
  /** In [0, 1): the retry jitter. */
  random: () => number;
  gate: RateGate;
  /** Aborts the request and every wait (a second Ctrl-C). */
  signal: AbortSignal;
  /** Content deltas as they arrive, for the progress display's tokens a second. */
  onDelta?: (count: number) => void;
}

/** Requests one completion, retrying as retry.ts decides. */
export async function requestCompletion(request: CompletionRequest, deps: ClientDeps): Promise<CompletionOutcome> {
  const attempts: AttemptRecord[] = [];
  const sofar = { failures: 0, rateLimited: 0 };
  for (;;) {
    try {
      await deps.gate.pass(deps.clock, deps.signal);
      const result = await attempt(request, deps);
      if (result.ok) return { ok: true, completion: result.completion, attempts };
      const decision = decideRetry(result.failure, sofar, deps.clock.now(), deps.random());
      const status = result.failure.kind === "http" ? result.failure.status : null;
      const record: AttemptRecord = { status, error: result.failure.message, server_wait_ms: decision.retry ? decision.serverWaitMs : null, waited_ms: null };
      attempts.push(record);
      if (!decision.retry) return { ok: false, error: result.failure.message, status, attempts };
      if (decision.counts === "rate_limit") {
        sofar.rateLimited++;
        deps.gate.hold(deps.clock.now() + decision.waitMs);
      } else sofar.failures++;
      record.waited_ms = decision.waitMs;
      await deps.clock.sleep(decision.waitMs, deps.signal);
    } catch (err) {
      if (deps.signal.aborted) return { ok: false, aborted: true, attempts };
      throw err;
    }
  }
}

type AttemptResult = { ok: true; completion: Completion } | { ok: false; failure: AttemptFailure };

async function attempt(request: CompletionRequest, deps: ClientDeps): Promise<AttemptResult> {
  const started = deps.clock.now();
  const idle = new AbortController();
  const signal = AbortSignal.any([deps.signal, idle.signal]);
  let timer = setTimeout(() => idle.abort(new Error("idle")), STREAM_IDLE_TIMEOUT_MS);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new Error("idle")), STREAM_IDLE_TIMEOUT_MS);
  };
  try {
    const response = await deps.fetch(`${request.baseUrl}/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${request.apiKey}`,
        "content-type": "application/json",
        "idempotency-key": request.idempotencyKey,
        ...(request.cache ? {} : { "cache-control": "no-store" }),
      },
      body: JSON.stringify({ ...request.body, stream: true, stream_options: { include_usage: true } }),
      signal,
    });
    if (!response.ok) {
      const { message, code } = errorOf(await response.text().catch(() => ""));
      return { ok: false, failure: { kind: "http", status: response.status, headers: response.headers, code, message: `HTTP ${response.status}: ${message}` } };
    }
    const meta = {
      requestId: response.headers.get("x-request-id"),
      cacheStatus: response.headers.get("x-cache"),
      replayed: response.headers.get("idempotent-replayed") === "true",
    };
    const type = response.headers.get("content-type") ?? "";
    const body = type.includes("text/event-stream")
      ? await readStream(response, deps, started, touch)
      : readJsonCompletion(await response.text(), deps.clock.now() - started);
    if (!body.ok) return body;
    return { ok: true, completion: { ...body.value, ...meta, latencyMs: deps.clock.now() - started } };
  } catch (err) {
    if (deps.signal.aborted) throw err;
    const message = idle.signal.aborted ? `no data for ${STREAM_IDLE_TIMEOUT_MS / 1000} s` : describe(err);
    return { ok: false, failure: { kind: "network", message } };
  } finally {
    clearTimeout(timer);
  }
}

type Parsed = Omit<Completion, "requestId" | "cacheStatus" | "replayed" | "latencyMs">;
type ParseResult = { ok: true; value: Parsed } | { ok: false; failure: AttemptFailure };

interface ChunkChoice {
  delta?: { content?: string | null };
  finish_reason?: string | null;
  final_answer?: string | null;
}
interface Chunk {
  model?: string;
  choices?: ChunkChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

async function readStream(response: Response, deps: ClientDeps, started: number, touch: () => void): Promise<ParseResult> {
  const splitter = new SseSplitter();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  const value: Parsed = { text: "", finishReason: null, apiFinalAnswer: null, promptTokens: 0, completionTokens: 0, servedModel: null, ttftMs: null };
  let done = false;
  const reader = response.body!.getReader();
  try {
    while (!done) {
      const read = await reader.read();
      if (read.done) break;
      touch();
      for (const event of splitter.push(decoder.decode(read.value, { stream: true }))) {
        const data = sseData(event);
        if (data === null) continue;
        if (data === SSE_DONE) {
          done = true;
          break;
        }
        const chunk = JSON.parse(data) as Chunk;
        if (chunk.error) return { ok: false, failure: { kind: "stream", message: `error in the stream: ${chunk.error.message ?? "unknown"}` } };
        value.servedModel = chunk.model ?? value.servedModel;
        const choice = chunk.choices?.[0];
        const content = choice?.delta?.content;
        if (content) {
          value.ttftMs ??= deps.clock.now() - started;
          parts.push(content);
          deps.onDelta?.(1);
        }
        if (choice?.finish_reason) value.finishReason = choice.finish_reason;
        if (choice?.final_answer !== undefined) value.apiFinalAnswer = choice.final_answer;
        if (chunk.usage) {
          value.promptTokens = chunk.usage.prompt_tokens ?? 0;
          value.completionTokens = chunk.usage.completion_tokens ?? 0;
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  if (!done) return { ok: false, failure: { kind: "stream", message: "the stream ended before [DONE]" } };
  value.text = parts.join("");
  return { ok: true, value };
}

/** A server that answered JSON although we asked for a stream. */
function readJsonCompletion(text: string, elapsedMs: number): ParseResult {
  const body = JSON.parse(text) as {
    model?: string;
    choices?: { message?: { content?: string | null }; finish_reason?: string | null; final_answer?: string | null }[];
    usage?: { prompt_tokens?: number; completion_tokens?: number };
  };
  const choice = body.choices?.[0];
  if (!choice) return { ok: false, failure: { kind: "stream", message: "the answer has no choices" } };
  return {
    ok: true,
    value: {
      text: choice.message?.content ?? "",
      finishReason: choice.finish_reason ?? null,
      apiFinalAnswer: choice.final_answer ?? null,
      promptTokens: body.usage?.prompt_tokens ?? 0,
      completionTokens: body.usage?.completion_tokens ?? 0,
      servedModel: body.model ?? null,
      ttftMs: elapsedMs,
    },
  };
}

/** OpenAI's error envelope's message and code, or the raw text. */
function errorOf(text: string): { message: string; code: string | null } {
  try {
    const error = (JSON.parse(text) as { error?: { message?: string; code?: string | null } }).error;
    if (error?.message) return { message: error.message, code: error.code ?? null };
  } catch {
    // not JSON: a proxy's page
  }
  return { message: text.slice(0, 300) || "(no body)", code: null };
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}
