/**
 * @module admin/admin-usage-routes
 * `GET /admin/v1/accounts/{id}/usage`: an account's usage records, newest
 * first, in cursor pages with the range's totals, or the whole range as CSV.
 */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { AccountUsageQuerySchema, MAX_USAGE_CSV_ROWS, UsageRecordListSchema } from "../../../shared/usage";
import { accountUsageCsv, accountUsagePage, CSV_COLUMNS } from "../../accounts/ledger/usage-report-service";
import { AccountIdParams, ADMIN_BASE_PATH, ADMIN_SECURITY, adminErrors, type AdminApp } from "./admin-common";

/**
 * `100000` → `"100,000"`. Not `toLocaleString("en-US")`: this runs as the
 * module loads, and the first Intl call loads ICU's data (about 25 ms of the
 * module's evaluation, measured in Node), for one number in a description.
 */
function withThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ",");
}

/** Usage is billing data: no cache along the way may keep it. */
const NO_STORE = { "cache-control": "no-store" };

const get = createRoute({
  method: "get",
  path: `${ADMIN_BASE_PATH}/accounts/{id}/usage`,
  tags: ["Admin: usage"],
  summary: "List an account's usage records, newest first, with totals (or export them as CSV)",
  description: [
    "One record per admitted request (requests refused before reaching a model leave none): its `request_id` is the",
    "`x-request-id` the client saw. Requests that ended a moment ago are included: the account's ledger is copied to the",
    "reporting database before the answer is read.",
    "",
    "The range is `from` ≤ `created_at` < `to` (admission time); both are optional and take an ISO 8601 date or date-time",
    "(UTC unless an offset is given) or Unix seconds. `created_at` in records is Unix **milliseconds**.",
    "",
    "JSON answers are pages of `limit` records; pass `next_cursor` as `after` for the next page until `has_more` is false.",
    "Every record of the range appears exactly once across the pages. `totals` always cover the whole range.",
    "",
    `\`format=csv\` answers one \`text/csv\` attachment with every record of the range (at most ${withThousands(MAX_USAGE_CSV_ROWS)};`,
    "a larger range is a 400: narrow it), `to` defaulting to now. Money is `cost_micro_usd` (integer micro-dollars) and",
    "`cost_usd` (the same as an exact decimal string).",
    "",
    "A record appears when its request ends, under the time it was admitted: a long generation still running is not",
    "listed yet. For an invoice, export a period that closed more than an hour ago (no request runs longer).",
  ].join("\n"),
  security: ADMIN_SECURITY,
  request: { params: AccountIdParams, query: AccountUsageQuerySchema },
  responses: {
    200: {
      description: "A page of records with the range's totals, or (format=csv) the CSV file",
      content: {
        "application/json": { schema: UsageRecordListSchema },
        "text/csv": {
          schema: z.string().describe(`RFC 4180, CRLF line ends, a header row: ${CSV_COLUMNS.join(", ")}. \`created_at\` is ISO 8601 UTC.`),
        },
      },
    },
    ...adminErrors,
  },
});

export function registerUsageAdminRoutes(app: AdminApp): void {
  app.openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    if (query.format === "csv") {
      const csv = await accountUsageCsv(c.env, id, query);
      return c.body(csv.body, 200, {
        ...NO_STORE,
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${csv.filename}"`,
      });
    }
    return c.json(await accountUsagePage(c.env, id, query), 200, NO_STORE);
  });
}
