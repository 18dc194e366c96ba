/**
 * @module backend-client
 * Calls a GPU backend (vLLM's OpenAI server on Modal, or the simulator) and
 * maps its failures honestly: the client's mistakes stay 400s, ours become
 * 5xx that leak nothing, and what may pass carries `Retry-After`.
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
): Promise<Response> {
  let response: Response;
  try {
    const request = new Request(joinUrl(backend.url, path), {
      method: "POST",
      headers: backendHeaders(secrets),
      body: JSON.stringify(body),
      signal,
    });
    response = await (backend === EMBEDDED_SIMULATOR ? embeddedSimulator().fetch(request) : fetch(request));
  } catch (err) {
    if (signal.aborted) throw new ClientGoneError();
    const error = new ApiError("backend_unavailable", "The model backend is unavailable. Please retry shortly.", {
      headers: { "retry-after": String(BACKEND_RETRY_AFTER_SECONDS) },
      internal: `backend ${backend.name} unreachable: ${String(err)}`,
    });
    throw new BackendCallError(error, { status: null, message: null, retryAfter: null });
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

/** The `error.message` (or top-level `message`) and `error.param` of a JSON error body, if any. */
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
