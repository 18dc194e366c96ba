/**
 * @module bearer-auth
 * Reads `Authorization: Bearer <key>` and asks an Authenticator who it is.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { HonoEnv } from "../env";
import { invalidApiKey, type Authenticator } from "../services/auth";

/** Longest bearer token we look at; longer ones cannot be ours. */
const MAX_TOKEN_LENGTH = 512;

export function bearerAuth(options: {
  authenticator: (c: Context<HonoEnv>) => Authenticator;
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
    c.set("principal", await options.authenticator(c).authenticate(secret, c.req.raw));
    await next();
  };
}
