/**
 * @module pages/sign-in
 * Sign-in: an operator's admin token or a key holder's API key, checked
 * against the API before it is kept. A refused token is not stored and the
 * form says why; nothing else is shown until a check passes.
 */
import { ApiProblem, apiGet } from "../api";
import { el } from "../dom";
import { DEFAULT_RANGE, seriesQuery } from "../ranges";
import type { Credential, CredentialKind } from "../session";
import { viewerTimeZone } from "../format";

/** Asks the API whether `token` works as `kind`: a cheap read each can make. */
async function check(kind: CredentialKind, token: string): Promise<void> {
  if (kind === "operator") {
    await apiGet("/admin/v1/accounts", { limit: 1 }, token);
    return;
  }
  await apiGet("/v1/usage/series", seriesQuery(DEFAULT_RANGE, Date.now(), viewerTimeZone()), token);
}

function reason(kind: CredentialKind, err: unknown): string {
  if (err instanceof ApiProblem) {
    if (err.status === 401) return kind === "operator" ? "That admin token was not accepted." : "That API key was not accepted: it is unknown, revoked or expired.";
    if (err.status === 404 && kind === "operator") return "The admin API is not enabled on this deployment (no ADMIN_TOKEN is set).";
    if (err.status === 403) return `This key may not read usage: ${err.message}`;
    return err.message;
  }
  return "Signing in failed. Try again.";
}

/** The sign-in form; `onSignedIn` gets the credential once the API accepted it. `message` explains why we are here again. */
export function signInPage(onSignedIn: (credential: Credential) => void, message?: string): HTMLElement {
  const error = el("p", { class: "form-error", id: "sign-in-error", role: "alert" }, message ?? "");
  error.hidden = !message;
  const token = el("input", { type: "password", id: "token", name: "token", autocomplete: "off", spellcheck: "false", required: true, placeholder: "Paste the token" });
  const kindInput = (kind: CredentialKind, label: string, detail: string, checked: boolean) =>
    el(
      "label",
      { class: "choice" },
      el("input", { type: "radio", name: "kind", value: kind, checked }),
      el("span", { class: "choice-text" }, el("strong", {}, label), el("span", {}, detail)),
    );
  const submit = el("button", { type: "submit", class: "primary", id: "sign-in" }, "Sign in");
  const form = el(
    "form",
    { class: "sign-in-form", id: "sign-in-form", novalidate: true },
    el("fieldset", {}, el("legend", {}, "Sign in as"), kindInput("operator", "Operator", "the admin token: every account and the backends", true), kindInput("key", "Key holder", "an API key: its own account's usage", false)),
    el("label", { class: "field", for: "token" }, "Token"),
    token,
    error,
    submit,
    el("p", { class: "fine" }, "The token stays in this tab only (session storage) and is sent as a Bearer header, never in a link or a cookie."),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const kind = (new FormData(form).get("kind") === "key" ? "key" : "operator") satisfies CredentialKind;
    const value = token.value.trim();
    if (!value) {
      error.textContent = "Paste a token first.";
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    error.hidden = true;
    check(kind, value)
      .then(() => {
        token.value = "";
        onSignedIn({ kind, token: value });
      })
      .catch((err: unknown) => {
        error.textContent = reason(kind, err);
        error.hidden = false;
        token.value = "";
        token.focus();
      })
      .finally(() => (submit.disabled = false));
  });
  return el(
    "main",
    { class: "sign-in" },
    el(
      "div",
      { class: "card" },
      el("div", { class: "brand big" }, el("span", { class: "logo", "aria-hidden": "true" }, "∑"), el("span", {}, "LIMO"), el("span", { class: "brand-sub" }, "Operations")),
      el("h1", {}, "Usage, latency and backends"),
      form,
    ),
  );
}
