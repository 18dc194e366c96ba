/**
 * @module admin/accounts-routes
 * `POST /admin/v1/accounts`, `GET /admin/v1/accounts`,
 * `GET /admin/v1/accounts/{id}`, `PATCH /admin/v1/accounts/{id}`.
 */
import { createRoute } from "@hono/zod-openapi";
import {
  AccountListQuerySchema,
  AccountListSchema,
  AccountSchema,
  CreateAccountRequestSchema,
  UpdateAccountRequestSchema,
} from "../../../shared/admin";
import { createAccount, getAccount, listAccounts, updateAccount } from "../../accounts/accounts-service";
import { documentedJsonBody } from "../openapi/openapi-schemas";
import { AccountIdParams, ADMIN_BASE_PATH, ADMIN_SECURITY, adminErrors, readBody, type AdminApp } from "./admin-common";

const tags = ["Admin: accounts"];

const create = createRoute({
  method: "post",
  path: `${ADMIN_BASE_PATH}/accounts`,
  tags,
  summary: "Create an account",
  security: ADMIN_SECURITY,
  request: { body: documentedJsonBody("CreateAccountRequest") },
  responses: { 201: { description: "The new account", content: { "application/json": { schema: AccountSchema } } }, ...adminErrors },
});

const list = createRoute({
  method: "get",
  path: `${ADMIN_BASE_PATH}/accounts`,
  tags,
  summary: "List accounts, newest first (or search them by name or id)",
  security: ADMIN_SECURITY,
  request: { query: AccountListQuerySchema },
  responses: { 200: { description: "A page of accounts", content: { "application/json": { schema: AccountListSchema } } }, ...adminErrors },
});

const get = createRoute({
  method: "get",
  path: `${ADMIN_BASE_PATH}/accounts/{id}`,
  tags,
  summary: "Retrieve an account",
  security: ADMIN_SECURITY,
  request: { params: AccountIdParams },
  responses: { 200: { description: "The account", content: { "application/json": { schema: AccountSchema } } }, ...adminErrors },
});

const update = createRoute({
  method: "patch",
  path: `${ADMIN_BASE_PATH}/accounts/{id}`,
  tags,
  summary: "Update an account: name, plan, status (suspend or reactivate), limits",
  description: "A suspension takes effect on the account's very next request.",
  security: ADMIN_SECURITY,
  request: { params: AccountIdParams, body: documentedJsonBody("UpdateAccountRequest") },
  responses: { 200: { description: "The updated account", content: { "application/json": { schema: AccountSchema } } }, ...adminErrors },
});

export function registerAccountRoutes(app: AdminApp): void {
  app.openAPIRegistry.register("CreateAccountRequest", CreateAccountRequestSchema);
  app.openAPIRegistry.register("UpdateAccountRequest", UpdateAccountRequestSchema);

  app.openapi(create, async (c) => {
    const input = await readBody(c, CreateAccountRequestSchema);
    return c.json(await createAccount(c.env, input), 201);
  });

  app.openapi(list, async (c) => c.json(await listAccounts(c.env, c.req.valid("query")), 200));

  app.openapi(get, async (c) => c.json(await getAccount(c.env, c.req.valid("param").id), 200));

  app.openapi(update, async (c) => {
    const patch = await readBody(c, UpdateAccountRequestSchema);
    return c.json(await updateAccount(c.env, c.req.valid("param").id, patch), 200);
  });
}
