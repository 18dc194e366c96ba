/**
 * @module usage-routes
 * `GET /v1/usage` (a key holder's own account usage, by day and model) and
 * `GET /v1/usage/series` (the same account as time series: the key holder's
 * dashboard). The account is always the key's: there is no parameter to name
 * another, and an unknown parameter is a 400.
 */
import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { MAX_USAGE_SUMMARY_DAYS, UsageSummaryQuerySchema, UsageSummarySchema } from "../../shared/usage";
import type { App, HonoEnv } from "./hono-env";
import { AccountUsageSeriesSchema, UsageSeriesQuerySchema } from "../../shared/usage-series";
import { accountUsageSummary } from "../accounts/ledger/usage-report-service";
import { accountUsageSeries } from "../accounts/ledger/usage-series-service";
import { authErrors, errorDoc } from "./openapi/openapi-schemas";
import { seriesDescription } from "./openapi/usage-series-docs";

const summary = (guard: MiddlewareHandler<HonoEnv>) =>
  createRoute({
    method: "get",
    path: "/v1/usage",
    middleware: guard,
    tags: ["Usage"],
    summary: "Your account's usage by day and model",
    description: [
      "Totals for the account of the API key used (every key of the account counts, live and test; test-mode requests",
      "cost 0), one entry per UTC day and model that had requests, and the totals of the range. Requests that ended a",
      "moment ago are included.",
      "",
      "`from` and `to` are UTC days (`YYYY-MM-DD`), both inclusive; without them, the current calendar month.",
      `At most ${MAX_USAGE_SUMMARY_DAYS} days per request. Money is in micro-dollars (1,000,000 = $1).`,
    ].join("\n"),
    security: [{ ApiKey: [] }],
    request: { query: UsageSummaryQuerySchema },
    responses: {
      200: { description: "Usage by day and model", content: { "application/json": { schema: UsageSummarySchema } } },
      400: errorDoc("Invalid `from` or `to`, or a range longer than allowed; `param` names it."),
      ...authErrors,
    },
  });

const series = (guard: MiddlewareHandler<HonoEnv>) =>
  createRoute({
    method: "get",
    path: "/v1/usage/series",
    middleware: guard,
    tags: ["Usage"],
    summary: "Your account's usage as time series (the dashboard's data)",
    description: seriesDescription("The API key's account's", ["", "Every key of the account counts, live and test; requests that ended a moment ago are included."]),
    security: [{ ApiKey: [] }],
    request: { query: UsageSeriesQuerySchema },
    responses: {
      200: { description: "The account's usage in buckets", content: { "application/json": { schema: AccountUsageSeriesSchema } } },
      400: errorDoc("Invalid `from`, `to`, `bucket` or `tz`, too many buckets, or an unknown parameter; `param` names it."),
      ...authErrors,
    },
  });

export function registerUsageRoutes(app: App, guard: MiddlewareHandler<HonoEnv>): void {
  app.openapi(summary(guard), async (c) => {
    const usage = await accountUsageSummary(c.env, c.get("principal").accountId, c.req.valid("query"));
    return c.json(usage, 200, { "cache-control": "no-store" });
  });
  app.openapi(series(guard), async (c) => {
    const usage = await accountUsageSeries(c.env, c.get("principal").accountId, c.req.valid("query"));
    return c.json(usage, 200, { "cache-control": "no-store" });
  });
}
