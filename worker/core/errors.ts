/**
 * @module errors
 * The Worker's error type: a code from shared/errors (which fixes its HTTP
 * status and OpenAI type), a message safe to send, extra headers, and an
 * internal reason that is logged, never sent. http/middleware/error-handler
 * puts it on the wire.
 */
import { ERROR_CODES, type ErrorCode } from "../../shared/errors";

/** An error meant for the client: a code, a safe message, and extra headers. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  /** Logged with the request id; never sent to the client. */
  readonly internal?: string;

  constructor(
    code: ErrorCode,
    message: string,
    options: { param?: string | null; headers?: Record<string, string>; internal?: string } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
    this.internal = options.internal;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

/** Thrown when the client went away before its answer was ready. */
export class ClientGoneError extends Error {
  constructor() {
    super("client disconnected");
    this.name = "ClientGoneError";
  }
}
