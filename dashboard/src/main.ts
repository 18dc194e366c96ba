/**
 * @module main
 * The dashboard's entry: draws the page for the address and the signed-in
 * credential, again on every change of either, of the theme, or on
 * sign-out. A refused credential (401) signs out at once: no page keeps
 * showing data for a token the API no longer accepts.
 */
import { ApiProblem } from "./api";
import { disposeCharts } from "./charts";
import { byId, el, replace } from "./dom";
import { accountPage } from "./pages/account";
import { accountsPage } from "./pages/accounts";
import { startBackendsPage } from "./pages/backends";
import { overviewPage } from "./pages/overview";
import { signInPage } from "./pages/sign-in";
import { notice } from "./panels";
import { parseRoute, routeHash, type Route } from "./route";
import { clearCredential, readCredential, saveCredential, type Credential } from "./session";
import { header } from "./shell";
import { applyTheme, cycleTheme, onSystemThemeChange } from "./theme";

let stopPage: (() => void) | null = null;
let generation = 0;

function signOut(message?: string): void {
  clearCredential();
  render(message);
}

/** What a failed read means for the page: a refused credential signs out; anything else is said where the data would be. */
function onProblem(err: unknown): void {
  if (err instanceof ApiProblem && err.signedOut) signOut("The API no longer accepts this token. Sign in again.");
}

function problemText(err: unknown): string {
  if (err instanceof ApiProblem && err.status === 404) return "Not found: no such account, or the endpoint does not exist on this deployment.";
  return err instanceof Error ? err.message : "Something went wrong reading the data.";
}

/** A key holder has one page; an operator has no key holder's page. */
function allowedRoute(route: Route, credential: Credential): Route {
  if (credential.kind === "key") return route.page === "usage" ? route : { page: "usage", range: route.range };
  return route.page === "usage" ? { page: "overview", range: route.range } : route;
}

function pageNodes(route: Route, credential: Credential): Promise<HTMLElement[]> {
  const now = Date.now();
  switch (route.page) {
    case "accounts":
      return accountsPage(route, onProblem);
    case "account":
    case "usage":
      return accountPage(route, credential.kind, now);
    default:
      return overviewPage(route, now);
  }
}

function render(message?: string): void {
  stopPage?.();
  stopPage = null;
  disposeCharts();
  const mine = ++generation;
  const app = byId("app");
  const credential = readCredential();
  if (!credential) {
    replace(app, signInPage(signIn, message));
    byId<HTMLInputElement>("token").focus();
    return;
  }
  const asked = parseRoute(location.hash);
  const route = allowedRoute(asked, credential);
  if (route !== asked) history.replaceState(null, "", routeHash(route));
  const main = el("main", { class: "content", id: "content" }, el("div", { class: "loading", "aria-busy": "true" }, "Loading…"));
  replace(app, header(route, credential, { signOut: () => signOut(), toggleTheme }), main);
  if (route.page === "backends") {
    stopPage = startBackendsPage(main, onProblem);
    return;
  }
  pageNodes(route, credential)
    .then((nodes) => {
      if (mine === generation) replace(main, ...nodes);
    })
    .catch((err: unknown) => {
      if (mine !== generation) return;
      replace(main, notice("error", problemText(err)));
      onProblem(err);
    });
}

function signIn(credential: Credential): void {
  saveCredential(credential);
  render();
}

function toggleTheme(): void {
  cycleTheme();
  render();
}

applyTheme();
onSystemThemeChange(() => render());
addEventListener("hashchange", () => render());
render();
