/**
 * @module responses
 * vLLM's error envelope and the small response helpers every handler uses.
 * vLLM's `code` is the integer HTTP status and its `type` an exception-like
 * name, unlike OpenAI's string codes (see shared/errors.ts for ours).
 */

/** The error `type` vLLM (or the platform in front of it) uses per status. */
const ERROR_TYPES: Record<number, string> = {
  400: "BadRequestError",
  401: "AuthenticationError",
  404: "NotFoundError",
  405: "MethodNotAllowedError",
  429: "TooManyRequestsError",
  500: "InternalServerError",
  501: "NotImplementedError",
  502: "BadGatewayError",
  503: "ServiceUnavailableError",
  504: "GatewayTimeoutError",
};

export function errorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? "InternalServerError" : "BadRequestError");
}

/** `{"error":{"message","type","param","code"}}` with the status as `code` (ErrorInfo's field order). */
export function errorResponse(status: number, message: string, param: string | null = null, type: string = errorType(status)): Response {
  return json({ error: { message, type, param, code: status } }, status);
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** FastAPI's answer for a path no route matches. */
export function notFound(): Response {
  return json({ detail: "Not Found" }, 404);
}

/** FastAPI's answer for a known path with the wrong method. */
export function methodNotAllowed(): Response {
  return json({ detail: "Method Not Allowed" }, 405);
}

/** Reads a JSON body; `undefined` when it is not JSON. */
export async function readJson(request: Request): Promise<unknown> {
  return parseJson(await request.text());
}

/** Parses JSON text; `undefined` when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
