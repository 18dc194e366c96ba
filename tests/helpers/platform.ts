/**
 * @module helpers/platform
 * A tutoring platform's account: per-end-user limits, a live key, its own
 * simulator, and helpers to act as one student (a body's `safety_identifier`)
 * or as a browser holding a client token.
 */
import { runInDurableObject } from "cloudflare:test";
import type { ClientToken, CreateClientTokenRequest } from "../../shared/client-tokens";
import type { EndUserLimits } from "../../shared/end-users";
import { accountStub } from "./admin";
import { limitedAccount, type LimitedAccount } from "./limits";

export interface Platform extends LimitedAccount {
  /** A chat completion as one student (`safety_identifier`), with the account's key. */
  student(endUser: string | null, body?: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>;
  /** Mints a client token with `key` (default: the account's key). */
  mint(body: CreateClientTokenRequest, key?: string): Promise<ClientToken>;
  /** A chat completion with a client token, from `origin` when given. */
  withToken(token: string, body?: Record<string, unknown>, origin?: string): Promise<Response>;
  /** Moves a client token's expiry (ms) in the account object's storage: the clock, without sleeping. */
  expireToken(tokenId: string, at: number): Promise<void>;
}

export async function platform(endUserLimits: Partial<EndUserLimits> = {}, extra: Record<string, unknown> = {}): Promise<Platform> {
  const acct = await limitedAccount();
  const res = await acct.a.admin("PATCH", `/accounts/${acct.accountId}`, { end_user_limits: endUserLimits, ...extra });
  if (res.status !== 200) throw new Error(`setting end-user limits failed: ${await res.text()}`);
  const chatBody = (body: Record<string, unknown>) => JSON.stringify({ model: "limo", messages: [{ role: "user", content: "What is 2+2?" }], ...body });
  return {
    ...acct,
    student: (endUser, body = {}, headers = {}) => acct.chat(endUser === null ? body : { safety_identifier: endUser, ...body }, headers),
    async mint(body, key = acct.key) {
      const minted = await acct.a.withKey(key, "/v1/client_tokens", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (minted.status !== 201) throw new Error(`minting failed: ${minted.status} ${await minted.text()}`);
      return (await minted.json()) as ClientToken;
    },
    withToken: (token, body = {}, origin) =>
      acct.a.withKey(token, "/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", ...(origin ? { origin } : {}) },
        body: chatBody(body),
      }),
    expireToken: (tokenId, at) =>
      runInDurableObject(accountStub(acct.accountId), (_instance, state) => {
        state.storage.sql.exec("UPDATE client_tokens SET expires_at = ? WHERE id = ?", at, tokenId);
      }),
  };
}
