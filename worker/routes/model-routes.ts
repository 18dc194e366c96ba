/**
 * @module model-routes
 * `GET /v1/models` and `GET /v1/models/{id}`: the deployed catalogue.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { MAX_MODEL_LEN_TOKENS, type CatalogueModel } from "../../shared/constants";
import type { ModelObject } from "../../shared/openai";
import type { HonoEnv } from "../env";
import { loadDeployment, resolveModel } from "../services/catalogue";

/** A fixed creation time (LIMO's release, 2025-02-05) so listings are stable. */
const MODEL_CREATED_UNIX_SECONDS = 1_738_713_600;

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

export function registerModelRoutes(app: Hono<HonoEnv>, guard: MiddlewareHandler<HonoEnv>): void {
  app.get("/v1/models", guard, (c) => {
    const { models } = loadDeployment(c.env.BACKENDS);
    return c.json({ object: "list", data: models.map(toModelObject) });
  });

  app.get("/v1/models/:id{.+}", guard, (c) => {
    const { model } = resolveModel(loadDeployment(c.env.BACKENDS), c.req.param("id") ?? "");
    return c.json(toModelObject(model));
  });
}
