/**
 * @module admin/keys-routes
 * `POST /admin/v1/accounts/{id}/keys`, `GET /admin/v1/accounts/{id}/keys`,
 * `DELETE /admin/v1/keys/{key_id}` (revoke), `POST /admin/v1/keys/{key_id}/rotate`.
 */
import { createRoute } from "@hono/zod-openapi";
import {
  ApiKeyListSchema,
  ApiKeySchema,
  CreatedApiKeySchema,
  CreateKeyRequestSchema,
  ListQuerySchema,
  RotatedApiKeySchema,
  RotateKeyRequestSchema,
} from "../../../shared/admin";
import { createKey, listKeys, revokeKey, rotateKey } from "../../accounts/keys/keys-service";
import { documentedJsonBody, errorDoc } from "../openapi/openapi-schemas";
import { AccountIdParams, ADMIN_BASE_PATH, ADMIN_SECURITY, adminErrors, KeyIdParams, readBody, type AdminApp } from "./admin-common";

const tags = ["Admin: API keys"];
const json = <S>(schema: S) => ({ "application/json": { schema } });

const create = createRoute({
  method: "post",
  path: `${ADMIN_BASE_PATH}/accounts/{id}/keys`,
  tags,
  summary: "Create an API key",
  description: "The answer's `key` is the secret; it is shown only here. `mode: test` keys never reach a GPU and are never billed.",
  security: ADMIN_SECURITY,
  request: { params: AccountIdParams, body: documentedJsonBody("CreateKeyRequest", false) },
  responses: { 201: { description: "The new key, with its secret", content: json(CreatedApiKeySchema) }, ...adminErrors },
});

const list = createRoute({
  method: "get",
  path: `${ADMIN_BASE_PATH}/accounts/{id}/keys`,
  tags,
  summary: "List an account's API keys (never their secrets), newest first",
  security: ADMIN_SECURITY,
  request: { params: AccountIdParams, query: ListQuerySchema },
  responses: { 200: { description: "A page of keys", content: json(ApiKeyListSchema) }, ...adminErrors },
});

const revoke = createRoute({
  method: "delete",
  path: `${ADMIN_BASE_PATH}/keys/{key_id}`,
  tags,
  summary: "Revoke an API key",
  description: "The key fails on its very next request. Revoking a revoked key changes nothing.",
  security: ADMIN_SECURITY,
  request: { params: KeyIdParams },
  responses: { 200: { description: "The revoked key", content: json(ApiKeySchema) }, ...adminErrors },
});

const rotate = createRoute({
  method: "post",
  path: `${ADMIN_BASE_PATH}/keys/{key_id}/rotate`,
  tags,
  summary: "Rotate an API key",
  description: "Issues a replacement with the same settings. The old secret keeps working for `grace_seconds` (default 0), then fails.",
  security: ADMIN_SECURITY,
  request: { params: KeyIdParams, body: documentedJsonBody("RotateKeyRequest", false) },
  responses: {
    201: { description: "The replacement key, with its secret", content: json(RotatedApiKeySchema) },
    ...adminErrors,
    409: errorDoc("The key is revoked, expired or already rotated."),
  },
});

export function registerKeyRoutes(app: AdminApp): void {
  app.openAPIRegistry.register("CreateKeyRequest", CreateKeyRequestSchema);
  app.openAPIRegistry.register("RotateKeyRequest", RotateKeyRequestSchema);

  app.openapi(create, async (c) => {
    const input = await readBody(c, CreateKeyRequestSchema, { optional: true });
    return c.json(await createKey(c.env, c.req.valid("param").id, input), 201);
  });

  app.openapi(list, async (c) => c.json(await listKeys(c.env, c.req.valid("param").id, c.req.valid("query")), 200));

  app.openapi(revoke, async (c) => c.json(await revokeKey(c.env, c.req.valid("param").key_id), 200));

  app.openapi(rotate, async (c) => {
    const input = await readBody(c, RotateKeyRequestSchema, { optional: true });
    return c.json(await rotateKey(c.env, c.req.valid("param").key_id, input.grace_seconds ?? 0), 201);
  });
}
