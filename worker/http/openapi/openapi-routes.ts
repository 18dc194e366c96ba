/**
 * @module openapi-routes
 * The OpenAPI 3.1 document at `GET /openapi.json` and its reference page at
 * `GET /docs` (no key needed), the security schemes, and the hook that puts
 * zod-openapi's validation failures in our error envelope. The document is
 * built from the routes at build time (scripts/build-openapi.ts) and served
 * as built.
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

  // The document is generated at build time (scripts/build-openapi.ts): the generator is not in the
  // bundle (registry-only.ts). The built text is served as it is; without ADMIN_TOKEN, once per isolate,
  // without the admin paths. Imported on first use, so start-up does not pay for it.
  let publicDocument: string | undefined;
  app.get(OPENAPI_PATH, async (c) => {
    const { default: built } = await import("../../../dist/openapi/openapi-document.js");
    const body = c.env.ADMIN_TOKEN ? built : (publicDocument ??= JSON.stringify(withoutAdmin(JSON.parse(built) as OpenApiDocument)));
    return c.body(body, 200, { "content-type": "application/json" });
  });
  app.get("/docs", Scalar({ url: OPENAPI_PATH, pageTitle: "LIMO Reasoning API reference" }));
}

interface OpenApiDocument {
  paths?: Record<string, unknown>;
  components?: { securitySchemes?: Record<string, unknown> } & Record<string, unknown>;
}

/** Without ADMIN_TOKEN the admin API does not exist, so neither does its documentation. */
function withoutAdmin(document: OpenApiDocument): OpenApiDocument {
  const paths = Object.fromEntries(Object.entries(document.paths ?? {}).filter(([path]) => !path.startsWith(ADMIN_BASE_PATH)));
  const { AdminToken: _hidden, ...securitySchemes } = document.components?.securitySchemes ?? {};
  return { ...document, paths, components: { ...document.components, securitySchemes } };
}
