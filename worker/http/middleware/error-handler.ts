/**
 * @module error-handler
 * The one place that decides an error's wire shape: Hono's `onError`, the
 * 404 and 405 answers, all in OpenAI's envelope with our request id. Internal
 * reasons are logged, never sent.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { REQUEST_ID_HEADER } from "../../../shared/constants";
import { errorBody, type ErrorCode } from "../../../shared/errors";
import { countRefusal } from "../../accounts/refusals/refusal-counter-service";
import { ApiError, ClientGoneError } from "../../core/errors";
import { log } from "../../core/log";
import type { HonoEnv } from "../hono-env";

/** Statuses Hono's own middleware may raise, mapped to our codes. */
const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: "invalid_request",
  404: "not_found",
  405: "method_not_allowed",
  413: "request_too_large",
};

/** The JSON response for an ApiError, with the request id. */
export function errorResponse(err: ApiError, requestId: string | undefined): Response {
  const headers = new Headers({ "content-type": "application/json", ...err.headers });
  if (requestId) headers.set(REQUEST_ID_HEADER, requestId);
  return new Response(JSON.stringify(errorBody(err.code, err.message, err.param)), {
    status: err.status,
    headers,
  });
}

/** Hono `onError`: the single place that decides an error's wire shape. */
export function handleError(err: Error, c: Context<HonoEnv>): Response {
  const requestId = c.get("requestId");
  if (err instanceof ApiError) {
    countRefused(c, err);
    if (err.status >= 500 || err.internal) {
      log("error", "request failed", { requestId, code: err.code, internal: err.internal ?? err.message });
    }
    return errorResponse(err, requestId);
  }
  if (err instanceof ClientGoneError) {
    // Nobody reads this answer; 499 marks it in logs and analytics, as nginx does.
    log("info", "client disconnected before the answer", { requestId });
    return new Response(null, { status: 499, headers: requestId ? { [REQUEST_ID_HEADER]: requestId } : {} });
  }
  if (err instanceof HTTPException && HTTP_STATUS_CODES[err.status]) {
    const code = HTTP_STATUS_CODES[err.status]!;
    return errorResponse(new ApiError(code, defaultMessage(code)), requestId);
  }
  log("error", "unhandled error", { requestId, error: String(err), stack: err.stack });
  return errorResponse(new ApiError("internal_error", "The server had an error while processing your request."), requestId);
}

/** Counts a refusal of a request whose key named an account (refusal-counter-service decides which). */
function countRefused(c: Context<HonoEnv>, err: ApiError): void {
  const credential = c.get("credential");
  if (!credential) return;
  let waitUntil: (p: Promise<unknown>) => void;
  try {
    const ctx = c.executionCtx;
    waitUntil = (p) => ctx.waitUntil(p);
  } catch {
    waitUntil = (p) => void p; // no execution context (a unit test's app.request): the call runs unawaited
  }
  countRefusal(c.env, credential, err.status, err.code, Date.now(), waitUntil);
}

function defaultMessage(code: ErrorCode): string {
  switch (code) {
    case "request_too_large":
      return "The request body is too large.";
    case "method_not_allowed":
      return "Method not allowed.";
    case "not_found":
      return "Not found.";
    default:
      return "Invalid request.";
  }
}
