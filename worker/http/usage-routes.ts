/**
 * @module usage-routes
 * `GET /v1/usage`: a key holder's own account usage, by day and model. The
 * account is always the key's: there is no parameter to name another.
 */
import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { MAX_USAGE_SUMMARY_DAYS, UsageSummaryQuerySchema, UsageSummarySchema } from "../../shared/usage";
import type { App, HonoEnv } from "./hono-env";
import { accountUsageSummary } from "../accounts/ledger/usage-report-service";
import { authErrors, errorDoc } from "./openapi/openapi-schemas";

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

export function registerUsageRoutes(app: App, guard: MiddlewareHandler<HonoEnv>): void {
  app.openapi(summary(guard), async (c) => {
    const usage = await accountUsageSummary(c.env, c.get("principal").accountId, c.req.valid("query"));
    return c.json(usage, 200, { "cache-control": "no-store" });
  });
}
