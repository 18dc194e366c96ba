/**
 * @module shell
 * The frame around every signed-in page: the product name, the navigation
 * (an operator's three pages, or a key holder's one), the range picker,
 * the theme toggle, who is signed in, and sign-out.
 */
import { el } from "./dom";
import { RANGE_IDS, RANGES } from "./ranges";
import { routeHash, type PageId, type Route } from "./route";
import { credentialLabel, type Credential } from "./session";
import { themeChoice } from "./theme";

export interface ShellActions {
  signOut: () => void;
  toggleTheme: () => void;
}

const THEME_LABELS = { auto: "Theme: system", light: "Theme: light", dark: "Theme: dark" } as const;

/** Pages that have a time range (the backends page shows the present). */
const RANGED: readonly PageId[] = ["overview", "account", "usage"];

function navLink(route: Route, page: PageId, label: string): HTMLElement {
  const current = route.page === page || (page === "accounts" && route.page === "account");
  return el("a", { href: routeHash({ page, range: route.range }), class: current ? "nav-link current" : "nav-link", "aria-current": current ? "page" : null }, label);
}

export function header(route: Route, credential: Credential, actions: ShellActions): HTMLElement {
  const nav =
    credential.kind === "operator"
      ? [navLink(route, "overview", "Overview"), navLink(route, "accounts", "Accounts"), navLink(route, "backends", "Backends")]
      : [navLink(route, "usage", "Usage")];
  const ranges = RANGED.includes(route.page)
    ? el(
        "div",
        { class: "ranges", role: "group", "aria-label": "Time range" },
        ...RANGE_IDS.map((id) =>
          el("a", { href: routeHash({ ...route, range: id }), class: id === route.range ? "range current" : "range", "data-range": id, "aria-current": id === route.range ? "true" : null }, RANGES[id].label),
        ),
      )
    : null;
  return el(
    "header",
    { class: "topbar" },
    el("div", { class: "brand" }, el("span", { class: "logo", "aria-hidden": "true" }, "∑"), el("span", {}, "LIMO"), el("span", { class: "brand-sub" }, "Operations")),
    el("nav", { class: "nav", "aria-label": "Pages" }, ...nav),
    el("div", { class: "spacer" }),
    ranges,
    el("button", { type: "button", class: "ghost", id: "theme-toggle", onclick: actions.toggleTheme }, THEME_LABELS[themeChoice()]),
    el("span", { class: "who", id: "signed-in-as" }, credentialLabel(credential)),
    el("button", { type: "button", class: "ghost", id: "sign-out", onclick: actions.signOut }, "Sign out"),
  );
}

/** A page's title block: the title (text), a line of context, and optional badges. */
export function pageTitle(title: string, context: string, ...badges: HTMLElement[]): HTMLElement {
  return el("div", { class: "page-title" }, el("h1", {}, title), el("p", { class: "context" }, context, ...badges));
}

export function badge(text: string, tone: "good" | "warn" | "bad" | "neutral"): HTMLElement {
  return el("span", { class: `badge ${tone}` }, text);
}
