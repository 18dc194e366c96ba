/**
 * @module model-routes
 * `GET /v1/models` and `GET /v1/models/{id}`: the deployed catalogue.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { MAX_MODEL_LEN_TOKENS, type CatalogueModel } from "../../shared/constants";
import type { ModelObject } from "../../shared/openai";
import type { HonoEnv } from "../env";
import { assertModelAllowed, isModelAllowed } from "../accounts/auth-service";
import { loadDeployment, resolveModel } from "../routing/catalogue";

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
    const principal = c.get("principal");
    // A key limited to some models sees only those, as if the others did not exist.
    return c.json({ object: "list", data: models.filter((m) => isModelAllowed(principal, m.id)).map(toModelObject) });
  });

  app.get("/v1/models/:id{.+}", guard, (c) => {
    const requested = c.req.param("id") ?? "";
    const model = resolveModel(loadDeployment(c.env.BACKENDS), requested);
    assertModelAllowed(c.get("principal"), model.id, requested);
    return c.json(toModelObject(model));
  });
}
