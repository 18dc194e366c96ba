/**
 * @module app
 * Builds the Hono application: request ids, one error handler, 404/405, body
 * limits and authentication in front of the OpenAI-compatible routes.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { every } from "hono/combine";
import { methodNotAllowed } from "hono/method-not-allowed";
import { MAX_REQUEST_BODY_BYTES } from "../shared/constants";
import type { HonoEnv } from "./env";
import { ApiError, errorResponse, handleError } from "./errors";
import { bearerAuth } from "./middleware/bearer-auth";
import { requestId } from "./middleware/request-id";
import { registerGenerationRoutes } from "./routes/generation-routes";
import { registerModelRoutes } from "./routes/model-routes";
import { DevKeyAuthenticator } from "./services/auth";
import { loadDeployment } from "./services/catalogue";

export function newApp(): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  app.use(requestId());
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

  app.get("/healthz", (c) => {
    loadDeployment(c.env.BACKENDS);
    return c.json({ status: "ok" });
  });

  // Per route, not `/v1/*`: an unknown path is a 404 and a wrong method a 405, key or no key.
  const guard: MiddlewareHandler<HonoEnv> = every(
    bearerAuth({ authenticator: (c) => new DevKeyAuthenticator(c.env) }),
    bodyLimit({
      maxSize: MAX_REQUEST_BODY_BYTES,
      onError: () => {
        throw new ApiError("request_too_large", `The request body exceeds the limit of ${MAX_REQUEST_BODY_BYTES} bytes.`);
      },
    }),
  );
  registerGenerationRoutes(app, guard);
  registerModelRoutes(app, guard);

  app.notFound((c) => errorResponse(new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}.`), c.get("requestId")));
  app.onError(handleError);
  return app;
}
