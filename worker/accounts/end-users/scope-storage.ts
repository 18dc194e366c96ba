/**
 * @module scope-storage
 * The account object's storage for a request's narrower scopes: its end
 * user's row (end-user-storage.ts) and its client token's (client-tokens/
 * client-token-storage.ts), loaded for one call, written back after it, and
 * pruned by the alarm. The decisions themselves are scoped-admission.ts's.
 */
import { effectiveEndUserLimits } from "../../../shared/plans";
import type { AccountState } from "../account-state";
import type { ClientTokenState } from "../client-tokens/client-token-state";
import { ClientTokenStorage } from "../client-tokens/client-token-storage";
import type { Reservation } from "../limits/admission";
import { WINDOW_MS } from "../limits/token-bucket";
import { hasEndUserLimits } from "./end-user-limits";
import { EndUserStorage } from "./end-user-storage";
import { msUntilNextDay } from "./scope";
import { settleScopes, toEffective, type Scopes } from "./scoped-admission";

export class ScopeStorage {
  readonly endUsers: EndUserStorage;
  readonly tokens: ClientTokenStorage;

  constructor(sql: SqlStorage) {
    this.endUsers = new EndUserStorage(sql);
    this.tokens = new ClientTokenStorage(sql);
  }

  /** A request's scopes: its end user's state (only when the account limits end users) and its client token. */
  load(account: AccountState | null, endUser: string | null, token: ClientTokenState | null, now: number): Scopes {
    const endUserLimits = toEffective(effectiveEndUserLimits(account?.plan ?? "", account?.endUsers?.limits ?? {}));
    const limited = endUser !== null && hasEndUserLimits(endUserLimits);
    return { endUser: limited ? this.endUsers.read(endUser, now) : null, endUserLimits, token };
  }

  save(scopes: Scopes, now: number): void {
    if (scopes.endUser) this.endUsers.write(scopes.endUser, now);
    if (scopes.token) this.tokens.writeUsage(scopes.token);
  }

  /** Counts a settled or expired reservation's usage in its end user's day and its client token's budget. */
  settle(account: AccountState | null, reservation: Reservation, used: number, now: number): void {
    const token = reservation.clientTokenId ? this.tokens.byId(reservation.clientTokenId) : null;
    const scopes = this.load(account, reservation.endUser ?? null, token, now);
    settleScopes(scopes, reservation, used, now);
    this.save(scopes, now);
  }

  /** Drops idle end users' rows and expired tokens; returns when the alarm should prune next (null: nothing left to prune). */
  prune(now: number): number | null {
    this.endUsers.prune(now);
    this.tokens.pruneExpired(now);
    const endUsersAt = this.endUsers.count() > 0 ? now + msUntilNextDay(now) + WINDOW_MS : null;
    const tokensAt = this.tokens.nextExpiry();
    if (endUsersAt === null) return tokensAt;
    return tokensAt === null ? endUsersAt : Math.min(endUsersAt, tokensAt);
  }
}
