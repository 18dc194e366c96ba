/**
 * @module request-id
 * Gives every request our own id (never the client's: it keys the ledger) and
 * puts it on every response.
 */
import type { MiddlewareHandler } from "hono";
import { REQUEST_ID_HEADER } from "../../../shared/constants";
import type { HonoEnv } from "../hono-env";

/** `req_` followed by 24 hex characters (96 random bits). */
export function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return `req_${hex}`;
}

export function requestId(): MiddlewareHandler<HonoEnv> {
  return async function requestId(c, next) {
    const id = newRequestId();
    c.set("requestId", id);
    await next();
    // After the handler: routes return their own Response objects.
    c.header(REQUEST_ID_HEADER, id);
  };
}
