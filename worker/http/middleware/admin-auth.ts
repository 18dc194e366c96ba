/**
 * @module admin-auth
 * Guards `/admin`: without ADMIN_TOKEN configured the admin API does not
 * exist (the same 404 as any unknown path); with it, the bearer token must
 * match in constant time.
 */
import type { MiddlewareHandler } from "hono";
import type { HonoEnv } from "../hono-env";
import { ApiError } from "../../core/errors";
import { timingSafeEqualStrings } from "../../accounts/auth-service";

export function adminAuth(): MiddlewareHandler<HonoEnv> {
  return async function adminAuth(c, next) {
    const expected = c.env.ADMIN_TOKEN;
    if (!expected) throw new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}.`);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
    // Compared even when absent, so a missing token costs what a wrong one does.
    const ok = await timingSafeEqualStrings(match?.[1] ?? "", expected);
    if (!match || !ok) {
      throw new ApiError("invalid_api_key", "Missing or invalid admin token. Provide it as 'Authorization: Bearer ADMIN_TOKEN'.", {
        headers: { "www-authenticate": 'Bearer realm="limo-admin"' },
      });
    }
    await next();
  };
}
