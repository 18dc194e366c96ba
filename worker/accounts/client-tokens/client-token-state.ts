/**
 * @module client-token-state
 * A client token as the account's object holds it, and the pure decisions
 * about it: may it be used now, from this origin (it lives only while its
 * parent key does), and does its own budget allow a request. Its budget is
 * reserved like the account's quota: requests in flight hold their worst case,
 * so concurrent requests never spend past `max_total_tokens`, and
 * `max_requests` counts admissions, exactly.
 */
import { decide, type AccountState, type AuthorizeRequest, type AuthorizeResult, type KeyState } from "../account-state";
import type { ScopeNeed, ScopeRefusal } from "../end-users/scope";
import { refusal } from "../limits/refusal";

/** One client token. Times are Unix milliseconds; the secret is never here, only its hash. */
export interface ClientTokenState {
  id: string;
  hash: string;
  /** The API key that minted it. */
  keyId: string;
  mode: "live" | "test";
  endUser: string;
  /** Public model ids; null for the key's. */
  models: string[] | null;
  /** Browser origins; null for the key's. */
  origins: string[] | null;
  maxTotalTokens: number | null;
  maxRequests: number | null;
  /** Tokens settled so far. */
  usedTokens: number;
  /** Requests admitted so far. */
  usedRequests: number;
  createdAt: number;
  expiresAt: number;
}

export type TokenBudgetCheck = { ok: true; room: number } | ScopeRefusal<"client_token_budget_exceeded">;

/**
 * Decides one request made with a client token: its parent key must still
 * work (revoked, rotated past its grace or expired: the token is refused as
 * the key would be), then the token's own expiry and budget, then its origins
 * (and the key's). The principal is the key's, narrowed to the token's models
 * and bound to its end user.
 */
export function decideToken(
  account: AccountState | null,
  key: KeyState | undefined,
  token: ClientTokenState,
  request: AuthorizeRequest,
  reservedTokens: number,
): AuthorizeResult {
  const parent = decide(account, key, { ...request, origin: null });
  if (!parent.ok) {
    if (parent.reason === "unknown_key" || parent.code !== "invalid_api_key") return parent;
    return { ...parent, message: `This client token's API key is no longer valid (${parent.reason}).` };
  }
  const keyId = token.keyId;
  if (token.expiresAt <= request.now) {
    return { ok: false, code: "invalid_api_key", reason: "expired", keyId, message: "This client token has expired. Ask your server for a new one." };
  }
  if (budgetSpent(token, reservedTokens)) {
    return { ok: false, code: "client_token_budget_exceeded", reason: "budget", keyId, message: "This client token's budget is spent." };
  }
  const origins = token.origins ?? key!.origins;
  if (request.origin !== null && ((origins !== null && !origins.includes(request.origin)) || (key!.origins !== null && !key!.origins.includes(request.origin)))) {
    return { ok: false, code: "origin_not_allowed", reason: "origin", keyId, message: "This client token may not be used from this origin." };
  }
  const keyModels = parent.principal.models;
  const models = token.models === null ? keyModels : token.models.filter((m) => keyModels === null || keyModels.includes(m));
  return { ok: true, principal: { ...parent.principal, models, endUser: token.endUser, clientTokenId: token.id } };
}

/** Whether nothing is left of the token's budget: every request made, or every token used or held. */
export function budgetSpent(token: ClientTokenState, reservedTokens: number): boolean {
  if (token.maxRequests !== null && token.usedRequests >= token.maxRequests) return true;
  return token.maxTotalTokens !== null && token.usedTokens + reservedTokens >= token.maxTotalTokens;
}

/** Checks the token's budget for one request, using nothing; `room` is the tokens it leaves. */
export function checkTokenBudget(token: ClientTokenState, reservedTokens: number, need: ScopeNeed, now: number): TokenBudgetCheck {
  const refuse = (message: string, shouldRetry: boolean): TokenBudgetCheck =>
    refusal("client_token_budget_exceeded", message, shouldRetry ? 1000 : token.expiresAt - now, {}, shouldRetry);
  if (token.maxRequests !== null && token.usedRequests >= token.maxRequests) {
    return refuse(`This client token may make ${token.maxRequests} requests; it has made them all.`, false);
  }
  if (token.maxTotalTokens === null) return { ok: true, room: Infinity };
  const asked = need.flexible ? need.minimum : need.wanted;
  const left = token.maxTotalTokens - token.usedTokens - reservedTokens;
  if (left < asked) {
    const reserved = reservedTokens > 0;
    return refuse(
      `This client token's budget of ${token.maxTotalTokens} tokens does not cover this request` +
        (reserved ? " (including tokens reserved by its requests in progress)." : "."),
      reserved,
    );
  }
  return { ok: true, room: left };
}

/** The first model or origin a token asks for that its key does not allow (a token never widens its key), or null. */
export function outsideKey(key: KeyState, token: Pick<ClientTokenState, "models" | "origins">): { param: "models" | "origins"; value: string } | null {
  const model = key.models === null ? undefined : token.models?.find((m) => !key.models!.includes(m));
  if (model !== undefined) return { param: "models", value: model };
  const origin = key.origins === null ? undefined : token.origins?.find((o) => !key.origins!.includes(o));
  return origin === undefined ? null : { param: "origins", value: origin };
}
