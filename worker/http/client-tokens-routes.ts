/**
 * @module client-tokens-routes
 * `POST /v1/client_tokens`: mint a short-lived token for one end user's
 * browser, with an API key (never with a client token: bearer-auth refuses it).
 */
import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { ClientTokenSchema, CreateClientTokenRequestSchema } from "../../shared/client-tokens";
import { mintClientToken } from "../accounts/client-tokens/client-tokens-service";
import { loadDeployment } from "../routing/catalogue";
import { parseWith, readJson } from "./body-validation";
import type { App, HonoEnv } from "./hono-env";
import { documentedRoute } from "./openapi/documented-route";
import { authErrors, documentedJsonBody, errorDoc } from "./openapi/openapi-schemas";

const mint = createRoute({
  method: "post",
  path: "/v1/client_tokens",
  tags: ["Client tokens"],
  summary: "Mint a short-lived client token for one end user's browser",
  description: [
    "Call it from your server with an API key (a test key mints a test token); hand `token` to one end user's page.",
    "The token authenticates `/v1/chat/completions`, `/v1/completions` and `/v1/models` from a browser; every request it",
    "makes is that end user's (a different `safety_identifier` or `user` is a 400) and counts against the account's",
    "per-end-user limits, the token's own `max_total_tokens` and `max_requests` (reserved: concurrent requests never",
    "spend past them) and the account's limits. It stops working when it expires, when its budget is spent, or when its",
    "API key is revoked or rotated past its grace. It can never mint tokens, read usage or reach `/admin`.",
  ].join("\n"),
  security: [{ ApiKey: [] }],
  request: { body: documentedJsonBody("CreateClientTokenRequest") },
  responses: {
    201: { description: "The token, with its secret (shown only here)", content: { "application/json": { schema: ClientTokenSchema } } },
    400: errorDoc("Invalid body; `param` names the field (a model or origin the key does not allow, too long or too short a life)."),
    ...authErrors,
  },
});

export function registerClientTokensRoutes(app: App, guard: MiddlewareHandler<HonoEnv>): void {
  app.openAPIRegistry.register("CreateClientTokenRequest", CreateClientTokenRequestSchema);
  documentedRoute(app, mint, [
    guard,
    async (c) => {
      const input = parseWith(CreateClientTokenRequestSchema, await readJson(c));
      const known = loadDeployment(c.env.BACKENDS).models.map((m) => m.id);
      const token = await mintClientToken(c.env, c.get("credential"), c.get("principal"), input, known);
      return c.json(token, 201, { "cache-control": "no-store" });
    },
  ]);
}
