/**
 * @module admin/refusals-routes
 * `GET /admin/v1/accounts/{id}/refusals`: how many of the account's requests
 * were refused, by HTTP status and error code (kept per minute by the
 * account's object, not as ledger records).
 */
import { createRoute } from "@hono/zod-openapi";
import { DEFAULT_REFUSAL_RANGE_MS, RefusalCountListSchema, RefusalQuerySchema } from "../../../shared/refusals";
import { getAccount } from "../../accounts/accounts-service";
import { parseRange } from "../../accounts/ledger/usage-report-service";
import { accountRefusals } from "../../accounts/refusals/refusal-counter-service";
import { AccountIdParams, ADMIN_BASE_PATH, ADMIN_SECURITY, adminErrors, type AdminApp } from "./admin-common";

const get = createRoute({
  method: "get",
  path: `${ADMIN_BASE_PATH}/accounts/{id}/refusals`,
  tags: ["Admin: usage"],
  summary: "Count an account's refused requests by status and code",
  description: [
    "Requests refused before they were admitted, which leave no usage record: a 401 or 403 for a key of this account",
    "(revoked, expired, rotated, suspended account, origin not allowed), a 429 by limit (`rate_limit_exceeded`,",
    "`insufficient_quota`), and the Worker's own refusals of a request made with one of its keys (400 invalid input,",
    "404 unknown model, 409, 413). A key that only claims the account (unknown to it) is not counted.",
    "",
    "Counters are kept per minute for 35 days; `from` and `to` are rounded down to the minute, and the range is",
    "`from` ≤ t < `to` (default: the last 24 hours). The object counts its own refusals in the call that refused them;",
    "the Worker's arrive within moments (batched per isolate).",
  ].join("\n"),
  security: ADMIN_SECURITY,
  request: { params: AccountIdParams, query: RefusalQuerySchema },
  responses: {
    200: { description: "Refused requests by status and code", content: { "application/json": { schema: RefusalCountListSchema } } },
    ...adminErrors,
  },
});

export function registerRefusalAdminRoutes(app: AdminApp): void {
  app.openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const range = parseRange(c.req.valid("query"));
    await getAccount(c.env, id);
    const to = range.to ?? Date.now();
    const from = range.from ?? to - DEFAULT_REFUSAL_RANGE_MS;
    return c.json({ data: await accountRefusals(c.env, id, from, to) }, 200, { "cache-control": "no-store" });
  });
}
