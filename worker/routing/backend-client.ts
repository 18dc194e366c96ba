/**
 * @module backend-client
 * Calls a GPU backend (vLLM's OpenAI server on Modal, or the simulator) and
 * maps its failures honestly: the client's mistakes stay 400s, ours become
 * 5xx that leak nothing, and what may pass carries `Retry-After`.
 *
 * Modal's 303s are followed here, not by fetch. A web function holds a
 * request at its edge while a container boots (or every container is full)
 * and, 150 s after it was sent, answers 303 to a result URL
 * (`?__modal_function_call_id=fc-...`); the call goes on in Modal without
 * us, and a GET of that URL waits up to 150 s more for its response (from
 * its first byte) or another 303. fetch would follow too (a 303 turns the
 * POST into a GET, which is what Modal wants), but silently: up to 20 hops,
 * under one TTFT timer, and a boot of several minutes would trip the timer.
 * Followed by hand, each hop is a sign of life (`onHeld`: keep-alives to a
 * streaming client, a fresh TTFT timer), the GET carries our credentials
 * and no body, the Location must stay on the backend's origin, and the
 * chain is bounded by MAX_MODAL_FOLLOWS. The POST is never re-sent: the
 * call is already running in Modal, and a second would pay twice.
 */
import type { BackendConfig } from "../../shared/backends";
import { MODAL_KEY_HEADER, MODAL_SECRET_HEADER } from "../../shared/constants";
import { ApiError, ClientGoneError } from "../core/errors";
import type { BackendSecrets } from "../core/vars";
import { EMBEDDED_SIMULATOR } from "./catalogue";
import { embeddedSimulator } from "./embedded-simulator";

/** What the backend said, for the router's retry decision (never sent to the client). */
export interface UpstreamFailure {
  /** HTTP status, or null when there was no answer (connection refused or reset). */
  status: number | null;
  message: string | null;
  retryAfter: string | null;
}

/** An ApiError from one backend call, carrying what the backend said. */
export class BackendCallError extends ApiError {
  readonly upstream: UpstreamFailure;

  constructor(error: ApiError, upstream: UpstreamFailure) {
    super(error.code, error.message, { param: error.param, headers: error.headers, internal: error.internal });
    this.upstream = upstream;
  }
}

/** How long a client should wait before retrying a failed backend, in seconds. */
export const BACKEND_RETRY_AFTER_SECONDS = 5;
/**
 * Most 303s followed for one request: 8 x 150 s = 20 minutes, the longest
 * first boot of a vLLM container we plan for (gpu/README.md). Then 503.
 */
export const MAX_MODAL_FOLLOWS = 8;

/** What the router hears while a call is held at Modal's edge. */
export interface BackendCallHooks {
  /** A 303 came and is being followed (`hop` counts from 1). */
  onHeld?: (hop: number) => void;
}

/** Most of a backend's error body we read to find its message, in bytes. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export function backendHeaders(secrets: BackendSecrets): Headers {
  const headers = new Headers({ "content-type": "application/json", accept: "text/event-stream" });
  if (secrets.MODAL_KEY && secrets.MODAL_SECRET) {
    headers.set(MODAL_KEY_HEADER, secrets.MODAL_KEY);
    headers.set(MODAL_SECRET_HEADER, secrets.MODAL_SECRET);
  }
  if (secrets.VLLM_API_KEY) headers.set("authorization", `Bearer ${secrets.VLLM_API_KEY}`);
  return headers;
}

/**
 * POSTs a streaming generation request. Resolves with the backend's SSE
 * response once it answered 2xx; otherwise throws an ApiError (or
 * ClientGoneError if `signal` fired).
 */
export async function openBackendStream(
  backend: BackendConfig,
  path: string,
  body: unknown,
  secrets: BackendSecrets,
  signal: AbortSignal,
  hooks: BackendCallHooks = {},
): Promise<Response> {
  let response = await send(backend, new Request(joinUrl(backend.url, path), {
    method: "POST",
    headers: backendHeaders(secrets),
    body: JSON.stringify(body),
    redirect: "manual",
    signal,
  }), signal);
  for (let hop = 1; response.status === 303; hop++) {
    await response.body?.cancel();
    const location = followable(backend, response.headers.get("location"));
    if (location === null || hop > MAX_MODAL_FOLLOWS) {
      const error = new ApiError("backend_unavailable", "The model backend is still starting. Please retry shortly.", {
        headers: { "retry-after": String(BACKEND_RETRY_AFTER_SECONDS) },
        internal: `backend ${backend.name}: ${location === null ? "a 303 off its origin" : `still held after ${MAX_MODAL_FOLLOWS} 303s`}`,
      });
      throw new BackendCallError(error, { status: 303, message: null, retryAfter: null });
    }
    hooks.onHeld?.(hop);
    const headers = backendHeaders(secrets);
    headers.delete("content-type");
    response = await send(backend, new Request(location, { method: "GET", headers, redirect: "manual", signal }), signal);
  }
  if (response.ok && response.body) {
    const type = response.headers.get("content-type") ?? "";
    if (type.startsWith("text/event-stream")) return response;
    await response.body.cancel();
    throw backendError(backend, `answered ${response.status} with content-type ${type}`);
  }
  const retryAfter = response.headers.get("retry-after");
  const { message, param } = await readErrorBody(response);
  throw new BackendCallError(mapBackendFailure(backend, response.status, message, param, retryAfter), {
    status: response.status,
    message,
    retryAfter,
  });
}

/** One HTTP exchange with a backend; no answer at all is a BackendCallError with a null status. */
async function send(backend: BackendConfig, request: Request, signal: AbortSignal): Promise<Response> {
  try {
    return await (backend === EMBEDDED_SIMULATOR ? embeddedSimulator().fetch(request) : fetch(request));
  } catch (err) {
    if (signal.aborted) throw new ClientGoneError();
    const error = new ApiError("backend_unavailable", "The model backend is unavailable. Please retry shortly.", {
      headers: { "retry-after": String(BACKEND_RETRY_AFTER_SECONDS) },
      internal: `backend ${backend.name} unreachable: ${String(err)}`,
    });
    throw new BackendCallError(error, { status: null, message: null, retryAfter: null });
  }
}

/** A 303's Location, resolved, when it stays on the backend's origin (our credentials go with it); else null. */
function followable(backend: BackendConfig, location: string | null): string | null {
  if (location === null) return null;
  try {
    const url = new URL(location, backend.url);
    return url.origin === new URL(backend.url).origin ? url.href : null;
  } catch {
    return null;
  }
}

/** Joins a base URL (which may carry a path prefix) and an absolute path. */
export function joinUrl(base: string, path: string): string {
  return base.endsWith("/") ? base.slice(0, -1) + path : base + path;
}

/**
 * vLLM names the input as the parameter that does not fit the context
 * (`param: "input_tokens"`, or `"input_text"` for its character pre-check):
 * its message text has changed between versions, the parameter has not.
 */
const CONTEXT_PARAMS = new Set(["input_tokens", "input_text"]);

function mapBackendFailure(
  backend: BackendConfig,
  status: number,
  message: string | null,
  param: string | null,
  backendRetryAfter: string | null,
): ApiError {
  const where = `backend ${backend.name} answered ${status}: ${message ?? "(no message)"}`;
  if (status === 401 || status === 403) {
    return new ApiError("backend_error", "The model backend is unavailable because of a server configuration problem.", {
      headers: { "retry-after": String(BACKEND_RETRY_AFTER_SECONDS) },
      internal: `${where} (check MODAL_KEY/MODAL_SECRET/VLLM_API_KEY)`,
    });
  }
  if (status === 429 || status === 503) {
    const retryAfter = backendRetryAfter ?? String(BACKEND_RETRY_AFTER_SECONDS);
    return new ApiError(
      status === 429 ? "server_busy" : "backend_unavailable",
      "The model backend is busy or starting. Please retry shortly.",
      { headers: { "retry-after": /^\d+$/.test(retryAfter) ? retryAfter : String(BACKEND_RETRY_AFTER_SECONDS) }, internal: where },
    );
  }
  if (status >= 400 && status < 500 && status !== 404 && message) {
    // vLLM's 400s describe the request (a too-long prompt, a bad parameter): the client's to fix.
    if (param !== null && CONTEXT_PARAMS.has(param)) {
      return new ApiError("context_length_exceeded", message, { param: "messages", internal: where });
    }
    // vLLM's validation names fields as `body.max_tokens`; the client sent `max_tokens`.
    return new ApiError("invalid_request", message, { param: param?.replace(/^body\./, "") ?? null, internal: where });
  }
  return backendError(backend, where);
}

export function backendError(backend: BackendConfig, internal: string): ApiError {
  return new ApiError("backend_error", "The model backend failed to answer. Please retry shortly.", {
    headers: { "retry-after": String(BACKEND_RETRY_AFTER_SECONDS) },
    internal: `backend ${backend.name}: ${internal}`,
  });
}

/** The `error.message` (or top-level `message`) and `error.param` of a JSON error body, a plain-text body's text, if any. */
async function readErrorBody(response: Response): Promise<{ message: string | null; param: string | null }> {
  const none = { message: null, param: null };
  if (!response.body) return none;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    return none;
  } finally {
    reader.cancel().catch(() => {});
  }
  const text = new TextDecoder().decode(concat(chunks, size));
  // Modal's edge answers in plain text (`modal-http: no live replica`): a 5xx's text is its message (the
  // router reads it); a plain 4xx is our infrastructure's, never the client's to fix, so it stays unnamed.
  if (!(response.headers.get("content-type") ?? "").includes("json") && !text.trimStart().startsWith("{")) {
    return response.status >= 500 ? { message: text.trim().slice(0, 2048) || null, param: null } : none;
  }
  try {
    const json = JSON.parse(text) as { error?: { message?: unknown; param?: unknown } | string; message?: unknown };
    const message = typeof json.error === "object" ? json.error?.message : json.message ?? json.error;
    const param = typeof json.error === "object" ? json.error?.param : null;
    return {
      message: typeof message === "string" ? message.slice(0, 2048) : null,
      param: typeof param === "string" && param.length <= 256 ? param : null,
    };
  } catch {
    return none;
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
