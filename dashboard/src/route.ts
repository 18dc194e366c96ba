/**
 * @module route
 * The page's address lives in the fragment (`#/accounts/acct_…?range=7d`):
 * it never reaches the server, and it never holds a credential. Pure
 * parsing and printing, so a link is a string and a reload lands where it was.
 */
import { DEFAULT_RANGE, isRangeId, type RangeId } from "./ranges";

export type PageId = "overview" | "accounts" | "account" | "backends" | "usage";

export interface Route {
  page: PageId;
  /** The account of the `account` page. */
  accountId?: string;
  range: RangeId;
  /** The accounts page's search. */
  q?: string;
}

/** Reads a fragment; anything unknown is the operator's overview (a key holder is sent to `usage` by the caller). */
export function parseRoute(hash: string): Route {
  const [path = "", search = ""] = hash.replace(/^#/, "").split("?", 2);
  const params = new URLSearchParams(search);
  const rangeParam = params.get("range");
  const range = isRangeId(rangeParam) ? rangeParam : DEFAULT_RANGE;
  const parts = path.split("/").filter(Boolean).map((part) => decodeURIComponent(part));
  if (parts[0] === "accounts" && parts[1]) return { page: "account", accountId: parts[1], range };
  if (parts[0] === "accounts") return { page: "accounts", range, q: params.get("q") ?? undefined };
  if (parts[0] === "backends") return { page: "backends", range };
  if (parts[0] === "usage") return { page: "usage", range };
  return { page: "overview", range };
}

export function routeHash(route: Route): string {
  const params = new URLSearchParams();
  if (route.range !== DEFAULT_RANGE) params.set("range", route.range);
  if (route.q) params.set("q", route.q);
  const path = route.page === "account" ? `accounts/${encodeURIComponent(route.accountId ?? "")}` : route.page;
  const search = params.size > 0 ? `?${params}` : "";
  return `#/${path}${search}`;
}
