/**
 * @module openapi-routes
 * The OpenAPI 3.1 document at `GET /openapi.json` and its reference page at
 * `GET /docs` (no key needed), the security schemes, and the hook that puts
 * zod-openapi's validation failures in our error envelope.
 */
import type { Context } from "hono";
import type { Hook } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { App, HonoEnv } from "../hono-env";
import { issueToError } from "../body-validation";
import { ADMIN_BASE_PATH } from "../admin/admin-common";

export const OPENAPI_PATH = "/openapi.json";

/** zod-openapi's `defaultHook`: the first issue becomes the same 400 as parseWith's. */
export const validationHook: Hook<unknown, HonoEnv, string, undefined> = (result, c) => {
  if (result.success) return;
  const issue = result.error.issues[0];
  if (issue) throw issueToError(issue, inputOf(result.target, c));
};

function inputOf(target: string, c: Context<HonoEnv>): unknown {
  if (target === "query") return c.req.query();
  if (target === "param") return c.req.param();
  return {};
}

export function registerOpenApi(app: App): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "ApiKey", {
    type: "http",
    scheme: "bearer",
    description:
      "An API key: `limo_sk_…` (live) or `limo_test_…` (test mode: simulator only, never billed). Generation routes and `/v1/models` also accept a client token (`limo_ct_…`, `limo_ct_test_…`) from `POST /v1/client_tokens`.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "AdminToken", {
    type: "http",
    scheme: "bearer",
    description: "The deployment's ADMIN_TOKEN. Without one configured, the admin API does not exist.",
  });

  // Built once per isolate and per admin visibility: the registry never changes after startup.
  const documents = new Map<boolean, object>();
  app.get(OPENAPI_PATH, (c) => {
    const withAdmin = Boolean(c.env.ADMIN_TOKEN);
    let document = documents.get(withAdmin);
    if (!document) {
      document = buildDocument(app, withAdmin);
      documents.set(withAdmin, document);
    }
    return c.json(document);
  });
  app.get("/docs", Scalar({ url: OPENAPI_PATH, pageTitle: "LIMO Reasoning API reference" }));
}

function buildDocument(app: App, withAdmin: boolean): object {
  const document = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "LIMO Reasoning API",
      version: "1.0.0",
      description:
        "An OpenAI-compatible API for the LIMO reasoning model (GAIR/LIMO). Every OpenAI client works unchanged: " +
        "point its base URL at `/v1` and use your API key. Errors use OpenAI's envelope; `x-request-id` identifies each request.",
    },
  });
  if (withAdmin) return document;
  // Without ADMIN_TOKEN the admin API does not exist, so neither does its documentation.
  const paths = Object.fromEntries(Object.entries(document.paths ?? {}).filter(([path]) => !path.startsWith(ADMIN_BASE_PATH)));
  const { AdminToken: _hidden, ...securitySchemes } = document.components?.securitySchemes ?? {};
  return { ...document, paths, components: { ...document.components, securitySchemes } };
}
