/**
 * @module bearer-auth
 * Reads `Authorization: Bearer <key>` and asks an Authenticator who it is.
 * Generation routes pass `authorize: false`: they check the key offline here
 * and authorize it inside their one admission call to the account's object.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { HonoEnv } from "../hono-env";
import { invalidApiKey } from "../../accounts/auth-service";
import { acceptsClientToken } from "../../accounts/client-tokens/client-token-scope";
import { ApiError } from "../../core/errors";
import type { Authenticator } from "../../accounts/principal";

/** Longest bearer token we look at; longer ones cannot be ours. */
const MAX_TOKEN_LENGTH = 512;

export function bearerAuth(options: {
  authenticator: (c: Context<HonoEnv>) => Authenticator;
  /** Ask the account's object now (default), or leave it to the route. */
  authorize?: boolean;
}): MiddlewareHandler<HonoEnv> {
  return async function bearerAuth(c, next) {
    const header = c.req.header("authorization");
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      throw invalidApiKey(
        "You didn't provide an API key. Provide it in the Authorization header as 'Bearer YOUR_KEY'.",
      );
    }
    const secret = match[1]!;
    if (secret.length > MAX_TOKEN_LENGTH) throw invalidApiKey();
    const authenticator = options.authenticator(c);
    const credential = await authenticator.identify(secret, c.req.raw);
    if (credential.clientToken && !acceptsClientToken(c.req.method, c.req.routePath)) {
      // A token handed to a browser may generate, never mint tokens, read usage or manage anything.
      throw new ApiError("permission_denied", `A client token cannot be used on ${c.req.method} ${c.req.path}; use an API key from your server.`);
    }
    c.set("credential", credential);
    if (options.authorize !== false) c.set("principal", await authenticator.authorize(credential));
    await next();
  };
}
