/**
 * @module admin/usage-series-routes
 * The operators' dashboard's data: `GET /admin/v1/usage/series` (every
 * account together, with the top accounts) and
 * `GET /admin/v1/accounts/{id}/usage/series` (one account, with its top end
 * users), both time series bucketed in the viewer's zone.
 */
import { createRoute } from "@hono/zod-openapi";
import { AccountUsageSeriesSchema, OverviewUsageSeriesSchema, UsageSeriesQuerySchema } from "../../../shared/usage-series";
import { accountUsageSeries, overviewUsageSeries } from "../../accounts/ledger/usage-series-service";
import { seriesDescription } from "../openapi/usage-series-docs";
import { AccountIdParams, ADMIN_BASE_PATH, ADMIN_SECURITY, adminErrors, type AdminApp } from "./admin-common";

/** Usage is billing data: no cache along the way may keep it. */
const NO_STORE = { "cache-control": "no-store" };

const overview = createRoute({
  method: "get",
  path: `${ADMIN_BASE_PATH}/usage/series`,
  tags: ["Admin: usage"],
  summary: "Every account's usage as time series, with the top accounts (the dashboard's overview)",
  description: seriesDescription("Every account's", [
    "",
    "Read from the reporting database as it is: each account's ledger reaches it within seconds of a request's end",
    "(the account's page, below, copies pending records first).",
  ]),
  security: ADMIN_SECURITY,
  request: { query: UsageSeriesQuerySchema },
  responses: {
    200: { description: "Every account's usage in buckets", content: { "application/json": { schema: OverviewUsageSeriesSchema } } },
    ...adminErrors,
  },
});

const account = createRoute({
  method: "get",
  path: `${ADMIN_BASE_PATH}/accounts/{id}/usage/series`,
  tags: ["Admin: usage"],
  summary: "An account's usage as time series, with its top end users (the dashboard's account page)",
  description: seriesDescription("One account's", ["", "Requests that ended a moment ago are included."]),
  security: ADMIN_SECURITY,
  request: { params: AccountIdParams, query: UsageSeriesQuerySchema },
  responses: {
    200: { description: "The account's usage in buckets", content: { "application/json": { schema: AccountUsageSeriesSchema } } },
    ...adminErrors,
  },
});

export function registerUsageSeriesAdminRoutes(app: AdminApp): void {
  app.openapi(overview, async (c) => c.json(await overviewUsageSeries(c.env, c.req.valid("query")), 200, NO_STORE));
  app.openapi(account, async (c) => c.json(await accountUsageSeries(c.env, c.req.valid("param").id, c.req.valid("query")), 200, NO_STORE));
}
