/**
 * @module models-routes
 * `GET /v1/models` and `GET /v1/models/{id}`: the deployed catalogue, as the
 * key may see it.
 */
import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import * as z from "zod";
import { MAX_MODEL_LEN_TOKENS, type CatalogueModel } from "../../shared/constants";
import type { ModelObject } from "../../shared/openai";
import { assertModelAllowed, isModelAllowed } from "../accounts/auth-service";
import { loadDeployment, resolveModel } from "../routing/catalogue";
import type { App, HonoEnv } from "./hono-env";
import { documentedRoute } from "./openapi/documented-route";
import { authErrors, errorDoc, ModelListSchema, ModelSchema } from "./openapi/openapi-schemas";

/** A fixed creation time (LIMO's release, 2025-02-05) so listings are stable. */
const MODEL_CREATED_UNIX_SECONDS = 1_738_713_600;

const security = [{ ApiKey: [] }];
const tags = ["OpenAI-compatible"];

const list = createRoute({
  method: "get",
  path: "/v1/models",
  tags,
  summary: "List the models this key may use",
  security,
  responses: { 200: { description: "The models", content: { "application/json": { schema: ModelListSchema } } }, ...authErrors },
});

const get = createRoute({
  method: "get",
  path: "/v1/models/{id}",
  tags,
  summary: "Retrieve a model by id or served name",
  security,
  request: { params: z.object({ id: z.string().describe("`limo`, `limo-v2`, or a served name such as `GAIR/LIMO`") }) },
  responses: {
    200: { description: "The model", content: { "application/json": { schema: ModelSchema } } },
    ...authErrors,
    404: errorDoc("No such model, or the key may not use it (`model_not_found`)."),
  },
});

function toModelObject(model: CatalogueModel): ModelObject {
  return {
    id: model.id,
    object: "model",
    created: MODEL_CREATED_UNIX_SECONDS,
    owned_by: model.ownedBy,
    root: model.servedName,
    max_model_len: MAX_MODEL_LEN_TOKENS,
  };
}

export function registerModelsRoutes(app: App, guard: MiddlewareHandler<HonoEnv>): void {
  documentedRoute(app, list, [
    guard,
    (c) => {
      const { models } = loadDeployment(c.env.BACKENDS);
      const principal = c.get("principal");
      // A key limited to some models sees only those, as if the others did not exist.
      return c.json({ object: "list", data: models.filter((m) => isModelAllowed(principal, m.id)).map(toModelObject) });
    },
  ]);

  documentedRoute(
    app,
    get,
    [
      guard,
      (c) => {
        const requested = c.req.param("id") ?? "";
        const model = resolveModel(loadDeployment(c.env.BACKENDS), requested);
        assertModelAllowed(c.get("principal"), model.id, requested);
        return c.json(toModelObject(model));
      },
    ],
    // A served name (`GAIR/LIMO`) holds a slash, which `:id` alone would not match.
    "/v1/models/:id{.+}",
  );
}
