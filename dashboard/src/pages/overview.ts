/**
 * @module pages/overview
 * The operator's first page: every account together over the chosen range
 * (requests, tokens, cost, error rate, time to first token) and the accounts
 * that used the most.
 */
import type { OverviewUsageSeries, TopAccount } from "../../../shared/usage-series";
import { apiGet } from "../api";
import { el } from "../dom";
import { formatExact, formatUsd, viewerTimeZone } from "../format";
import { rowsTable, tablePanel } from "../panels";
import { RANGES, seriesQuery } from "../ranges";
import { routeHash, type Route } from "../route";
import { pageTitle } from "../shell";
import { latencyPanel, usageCharts, usageStats } from "../usage-view";

export async function overviewPage(route: Route, now: number): Promise<HTMLElement[]> {
  const tz = viewerTimeZone();
  const series = await apiGet<OverviewUsageSeries>("/admin/v1/usage/series", seriesQuery(route.range, now, tz));
  const top = rowsTable<TopAccount>(
    "top-accounts",
    [
      {
        label: "Account",
        cell: (a) =>
          el("span", { class: "stack" }, el("a", { href: routeHash({ page: "account", accountId: a.account_id, range: route.range }) }, a.name ?? a.account_id), el("code", {}, a.account_id)),
      },
      { label: "Requests", cell: (a) => formatExact(a.requests), numeric: true },
      { label: "Tokens", cell: (a) => formatExact(a.prompt_tokens + a.completion_tokens), numeric: true },
      { label: "Cost", cell: (a) => formatUsd(a.cost_micro_usd), numeric: true },
    ],
    series.top_accounts,
    "No account has used the API in this range yet.",
  );
  return [
    pageTitle("Overview", `All accounts · ${RANGES[route.range].label} · times in ${tz}`),
    usageStats(series),
    el("div", { class: "grid" }, ...usageCharts(series), latencyPanel(series, true), tablePanel("top-accounts", "Top accounts", "Most tokens in the range", top, true)),
  ];
}
