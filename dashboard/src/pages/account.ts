/**
 * @module pages/account
 * One account's usage: what the operator sees for any account, and what a
 * key holder sees for its own (the API answers a key only with its own
 * account, whatever the page asks). Tokens and cost by model, requests by
 * status, latency percentiles, and the end users that used the most.
 */
import type { Account } from "../../../shared/admin";
import type { AccountUsageSeries, TopEndUser } from "../../../shared/usage-series";
import { apiGet } from "../api";
import { el } from "../dom";
import { formatDateSeconds, formatExact, formatUsd, viewerTimeZone } from "../format";
import { rowsTable, tablePanel } from "../panels";
import { RANGES, seriesQuery } from "../ranges";
import type { Route } from "../route";
import type { CredentialKind } from "../session";
import { badge, pageTitle } from "../shell";
import { latencyPanel, modelsPanel, usageCharts, usageStats } from "../usage-view";

function endUsersPanel(users: TopEndUser[]): HTMLElement {
  const table = rowsTable<TopEndUser>(
    "end-users",
    [
      { label: "End user", cell: (u) => el("code", {}, u.end_user) },
      { label: "Requests", cell: (u) => formatExact(u.requests), numeric: true },
      { label: "Tokens", cell: (u) => formatExact(u.prompt_tokens + u.completion_tokens), numeric: true },
      { label: "Cost", cell: (u) => formatUsd(u.cost_micro_usd), numeric: true },
    ],
    users,
    "No end users in this range. Requests that name one (the user or safety_identifier field) are counted here.",
  );
  return tablePanel("end-users", "Top end users", "Most tokens in the range, by the end user the request named", table);
}

export async function accountPage(route: Route, kind: CredentialKind, now: number): Promise<HTMLElement[]> {
  const tz = viewerTimeZone();
  const query = seriesQuery(route.range, now, tz);
  const id = encodeURIComponent(route.accountId ?? "");
  const [series, account] =
    kind === "operator"
      ? await Promise.all([apiGet<AccountUsageSeries>(`/admin/v1/accounts/${id}/usage/series`, query), apiGet<Account>(`/admin/v1/accounts/${id}`)])
      : [await apiGet<AccountUsageSeries>("/v1/usage/series", query), null];
  const badges = account
    ? [badge(account.status, account.status === "active" ? "good" : "bad"), badge(`plan ${account.plan}`, "neutral"), badge(`since ${formatDateSeconds(account.created_at)}`, "neutral")]
    : [];
  return [
    pageTitle(series.account.name, `${series.account.id} · ${RANGES[route.range].label} · times in ${tz}`, ...badges),
    usageStats(series),
    el("div", { class: "grid" }, ...usageCharts(series, { duration: true }), latencyPanel(series), modelsPanel(series), endUsersPanel(series.top_end_users)),
  ];
}
