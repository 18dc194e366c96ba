/**
 * @module client-token-scope
 * The one list of routes a client token may call. A route opts in by being
 * named here (the Responses API's create; reading a stored response needs the key); every other
 * route refuses a client token with a 403, so a token handed to a browser can
 * never mint tokens, read usage or manage keys.
 */

/** `METHOD path` of every route that accepts a client token. */
export const CLIENT_TOKEN_ROUTES: readonly string[] = [
  "POST /v1/chat/completions",
  "POST /v1/completions",
  "POST /v1/responses",
  "POST /v1/answers/check",
  "GET /v1/models",
  "GET /v1/models/:id{.+}",
];

/** Whether a client token may call the route matched as `routePath` (Hono's pattern, e.g. `/v1/models/:model`). */
export function acceptsClientToken(method: string, routePath: string): boolean {
  return CLIENT_TOKEN_ROUTES.includes(`${method.toUpperCase()} ${routePath}`);
}
