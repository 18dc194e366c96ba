/**
 * @module session
 * Who is signed in: the admin token or an API key, held only in this tab's
 * `sessionStorage` (gone when the tab closes), read afresh for every request
 * and sent only as an `Authorization: Bearer` header. It is never put in a
 * URL, a cookie or `localStorage`, and signing out removes it.
 */

/** `operator`: the admin token (every account, the backends); `key`: an API key (its own account only). */
export type CredentialKind = "operator" | "key";

export interface Credential {
  kind: CredentialKind;
  token: string;
}

const STORAGE_KEY = "limo.dashboard.credential";

/** The signed-in credential, or null (nothing stored, or something we did not write). */
export function readCredential(): Credential | null {
  const text = sessionStorage.getItem(STORAGE_KEY);
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<Credential>;
    if ((value.kind === "operator" || value.kind === "key") && typeof value.token === "string" && value.token !== "") {
      return { kind: value.kind, token: value.token };
    }
  } catch {
    // fall through: a value we cannot read is no credential
  }
  sessionStorage.removeItem(STORAGE_KEY);
  return null;
}

export function saveCredential(credential: Credential): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
}

export function clearCredential(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/**
 * What the header may show of a credential: an API key's first characters
 * (as the admin API shows a key's prefix); never any part of the admin token.
 */
export function credentialLabel(credential: Credential): string {
  if (credential.kind === "operator") return "Operator";
  const prefix = /^(limo_(?:sk|test|dev)_)/.exec(credential.token)?.[1] ?? "";
  return `API key ${credential.token.slice(0, prefix.length + 4)}…`;
}
