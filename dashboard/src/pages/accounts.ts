/**
 * @module pages/accounts
 * Every account, newest first, with a search over names and ids. Typing
 * updates the results and the address (replaced, not pushed: the back
 * button leaves the page instead of stepping through keystrokes).
 */
import type { Account, ListPage } from "../../../shared/admin";
import { apiGet } from "../api";
import { el, replace } from "../dom";
import { formatDateSeconds } from "../format";
import { notice, rowsTable } from "../panels";
import { routeHash, type Route } from "../route";
import { badge, pageTitle } from "../shell";

const PAGE_ROWS = 50;
const SEARCH_DEBOUNCE_MS = 250;

function accountRows(route: Route, accounts: Account[], q: string | undefined): HTMLElement {
  return rowsTable<Account>(
    "accounts",
    [
      { label: "Name", cell: (a) => el("a", { href: routeHash({ page: "account", accountId: a.id, range: route.range }) }, a.name) },
      { label: "Id", cell: (a) => el("code", {}, a.id) },
      { label: "Plan", cell: (a) => a.plan },
      { label: "Status", cell: (a) => badge(a.status, a.status === "active" ? "good" : "bad") },
      { label: "Created", cell: (a) => formatDateSeconds(a.created_at) },
    ],
    accounts,
    q ? "No account matches this search." : "No accounts yet. Create one with: npm run admin -- create-account",
  );
}

export async function accountsPage(route: Route, onProblem: (err: unknown) => void): Promise<HTMLElement[]> {
  const results = el("div", { class: "panel wide", id: "account-results" });
  const search = el("input", { type: "search", id: "account-search", placeholder: "Search by name or id", value: route.q ?? "", "aria-label": "Search accounts", autocomplete: "off" });
  let shown: Account[] = [];
  let generation = 0;

  const load = async (q: string | undefined, after?: string) => {
    const mine = ++generation;
    const page = await apiGet<ListPage<Account>>("/admin/v1/accounts", { limit: PAGE_ROWS, q: q || undefined, after });
    if (mine !== generation) return;
    shown = after ? [...shown, ...page.data] : page.data;
    const more = page.has_more && page.next_cursor
      ? el("button", { type: "button", class: "ghost", id: "more-accounts", onclick: () => void load(q, page.next_cursor).catch(onProblem) }, "Show more")
      : null;
    replace(results, accountRows(route, shown, q), more);
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const q = search.value.trim() || undefined;
      history.replaceState(null, "", routeHash({ ...route, q }));
      load(q).catch((err: unknown) => {
        replace(results, notice("error", err instanceof Error ? err.message : "Search failed."));
        onProblem(err);
      });
    }, SEARCH_DEBOUNCE_MS);
  });

  await load(route.q);
  return [pageTitle("Accounts", "Newest first"), el("div", { class: "toolbar" }, search), results];
}
