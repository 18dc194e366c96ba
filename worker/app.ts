/**
 * @module app
 * Builds the application: request ids, CORS for browser callers, one error
 * handler, 404/405, body limits and API-key authentication in front of the
 * OpenAI-compatible routes, the admin API, and the OpenAPI document.
 */
import type { Context, MiddlewareHandler } from "hono";
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { every } from "hono/combine";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import { MAX_REQUEST_BODY_BYTES, REQUEST_ID_HEADER } from "../shared/constants";
import { AccountKeyAuthenticator } from "./accounts/auth-service";
import { ApiError } from "./core/errors";
import { registerAdminRoutes } from "./http/admin/admin-routes";
import { registerClientTokensRoutes } from "./http/client-tokens-routes";
import { registerAnswersRoutes } from "./http/answers-routes";
import { registerCompletionsRoutes } from "./http/completions-routes";
import { registerGenerationsRoutes } from "./http/generations-routes";
import { registerHealthRoutes } from "./http/health-routes";
import type { App, HonoEnv } from "./http/hono-env";
import { bearerAuth } from "./http/middleware/bearer-auth";
import { errorResponse, handleError } from "./http/middleware/error-handler";
import { requestId } from "./http/middleware/request-id";
import { registerModelsRoutes } from "./http/models-routes";
import { registerOpenApi, validationHook } from "./http/openapi/openapi-routes";
import { registerResponsesRoutes } from "./http/responses-routes";
import { registerUsageRoutes } from "./http/usage-routes";

const RATE_LIMIT_HEADERS = ["requests", "tokens"].flatMap((unit) =>
  ["limit", "remaining", "reset"].map((what) => `x-ratelimit-${what}-${unit}`),
);

/** How long browsers may cache a preflight answer, in seconds. */
const CORS_MAX_AGE_SECONDS = 600;

export function newApp(): App {
  const app = new OpenAPIHono<HonoEnv>({ defaultHook: validationHook });
  app.use(requestId());
  // Web pages may call /v1 with a key whose allowed origins include theirs
  // (checked by the key's account object). Preflights carry no key, so they
  // are answered here for any origin; no cookies are involved.
  app.use(
    "/v1/*",
    cors({
      origin: "*",
      allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
      // What a browser client may read: our request id and OpenAI's rate-limit headers.
      exposeHeaders: [REQUEST_ID_HEADER, "retry-after", "retry-after-ms", "x-should-retry", "x-cache", "x-generation-id", ...RATE_LIMIT_HEADERS],
      maxAge: CORS_MAX_AGE_SECONDS,
    }),
  );
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        errorResponse(
          new ApiError("method_not_allowed", `Method ${c.req.method} is not allowed on ${c.req.path}.`, {
            headers: { allow: methods.join(", ") },
          }),
          c.get("requestId"),
        ),
    }),
  );

  registerHealthRoutes(app);

  // Per route, not `/v1/*`: an unknown path is a 404 and a wrong method a 405, key or no key.
  const limitBody = bodyLimit({
    maxSize: MAX_REQUEST_BODY_BYTES,
    onError: () => {
      throw new ApiError("request_too_large", `The request body exceeds the limit of ${MAX_REQUEST_BODY_BYTES} bytes.`);
    },
  });
  const authenticator = (c: Context<HonoEnv>) => new AccountKeyAuthenticator(c.env);
  const guard: MiddlewareHandler<HonoEnv> = every(bearerAuth({ authenticator }), limitBody);
  // Generation routes check the key offline here and authorize it in their one admission call.
  const generationGuard: MiddlewareHandler<HonoEnv> = every(bearerAuth({ authenticator, authorize: false }), limitBody);
  registerCompletionsRoutes(app, generationGuard);
  registerResponsesRoutes(app, generationGuard, guard);
  // Checks are admitted like generations (one account call: authorize, count the request), so the same guard.
  registerAnswersRoutes(app, generationGuard);
  registerGenerationsRoutes(app, guard);
  registerModelsRoutes(app, guard);
  registerUsageRoutes(app, guard);
  registerClientTokensRoutes(app, guard);
  registerAdminRoutes(app);
  registerOpenApi(app);

  app.notFound((c) => errorResponse(new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}.`), c.get("requestId")));
  app.onError(handleError);
  return app;
}
