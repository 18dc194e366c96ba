/**
 * @module account-do
 * One Durable Object per account (`idFromName(accountId)`): the copy of the
 * account's status, limits and keys that the hot path reads, in memory and in
 * its own SQLite. The Worker makes one `authorize` call per request; the admin
 * API pushes every change here explicitly, so a new key works at once and a
 * revoked one fails on the very next request. D1 stays the source of truth:
 * an empty object loads its account from D1 once, and last-use times go back
 * to D1 from an alarm, never on the hot path.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { log } from "../log";
import { getAccountRow, toAccountState } from "../services/accounts-db";
import { flushLastUsed, listKeyRowsOfAccount, toKeyState } from "../services/keys-db";
import { decide, earliest, type AccountState, type AuthorizeRequest, type AuthorizeResult, type KeyState } from "./account-state";
import { AccountStorage } from "./account-storage";

/** Last use is recorded at most once per key per minute: one write, not one per request. */
const LAST_USED_RESOLUTION_MS = 60_000;
/** How soon after a recorded use the alarm copies last-use times to D1. */
const LAST_USED_FLUSH_DELAY_MS = 30_000;
/**
 * How long an object whose account D1 does not know answers from memory before
 * asking D1 again: random well-formed keys for a made-up account cost one D1
 * read per minute per object, not one per request, and leave no storage behind.
 */
const ABSENT_ACCOUNT_RECHECK_MS = 60_000;

/** The meta row that says this object's state came from D1 (it is not merely empty). */
const LOADED_META_KEY = "loaded_at";
const ACCOUNT_META_KEY = "account_id";

export class AccountDO extends DurableObject<Env> {
  readonly #storage: AccountStorage;
  #account: AccountState | null = null;
  /** Keys by hash: the hot path's one lookup. */
  #keys = new Map<string, KeyState>();
  #loaded = false;
  #absentCheckedAt: number | null = null;
  #alarmPending = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#storage = new AccountStorage(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      this.#storage.migrate();
      if (this.#storage.getMeta(LOADED_META_KEY) !== null) this.#readStorage();
    });
  }

  /** The hot path: may this key be used, now, from this origin? */
  async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    await this.#ensureLoaded(request.accountId, request.now);
    const key = this.#keys.get(request.keyHash);
    const result = decide(this.#account, key, request);
    if (result.ok && key) await this.#touch(key, request.now);
    return result;
  }

  /** Reloads the account from D1 (merging so that no revocation is undone). Returns whether it exists. */
  async sync(accountId: string): Promise<boolean> {
    await this.ctx.blockConcurrencyWhile(() => this.#loadFromD1(accountId, Date.now()));
    return this.#account !== null;
  }

  /** Pushes the account's status, plan and limits (after or before D1, see services/accounts). */
  async putAccount(account: AccountState): Promise<void> {
    await this.#ensureLoaded(account.id, Date.now(), true);
    this.#account = account;
    this.#storage.writeAccount(account);
  }

  /** Pushes a new or changed key (after D1 has it). */
  async putKey(accountId: string, key: KeyState): Promise<void> {
    await this.#ensureLoaded(accountId, Date.now(), true);
    const existing = this.#keys.get(key.hash);
    const merged = existing ? { ...key, revokedAt: earliest(existing.revokedAt, key.revokedAt) } : key;
    this.#keys.set(key.hash, merged);
    this.#storage.writeKey(merged);
  }

  /**
   * Revokes a key from `revokedAt` on (now, or the end of a rotation's grace).
   * Called before D1 is written, so a failure in between never leaves a revoked
   * key working. Returns false when this object does not know the key.
   */
  async revokeKey(accountId: string, keyId: string, revokedAt: number, rotatedTo: string | null = null): Promise<boolean> {
    await this.#ensureLoaded(accountId, Date.now(), true);
    for (const key of this.#keys.values()) {
      if (key.id !== keyId) continue;
      key.revokedAt = earliest(key.revokedAt, revokedAt);
      key.rotatedTo ??= rotatedTo;
      this.#storage.writeKey(key);
      return true;
    }
    return false;
  }

  /** Copies last-use times to D1; a failure throws, and the runtime retries the alarm. */
  override async alarm(): Promise<void> {
    // Cleared first: a use recorded while we write schedules the next flush itself.
    this.#alarmPending = false;
    const accountId = this.#account?.id;
    const entries = this.#storage.unflushedLastUsed();
    if (!accountId || entries.length === 0) return;
    await flushLastUsed(this.env.DB, accountId, entries);
    this.#storage.markFlushed(entries);
  }

  #readStorage(): void {
    this.#account = this.#storage.readAccount();
    this.#keys = new Map(this.#storage.readKeys().map((k) => [k.hash, k]));
    this.#loaded = true;
  }

  /**
   * Loads from D1 the first time (blocking other calls meanwhile); answers from
   * memory afterwards. Admin pushes pass `recheckAbsent`: they know the account exists.
   */
  async #ensureLoaded(accountId: string, now: number, recheckAbsent = false): Promise<void> {
    if (this.#loaded) {
      if (this.#account && this.#account.id !== accountId) throw new Error("account object called for another account");
      return;
    }
    const recentlyAbsent = this.#absentCheckedAt !== null && now - this.#absentCheckedAt < ABSENT_ACCOUNT_RECHECK_MS;
    if (recentlyAbsent && !recheckAbsent) return;
    await this.ctx.blockConcurrencyWhile(async () => {
      if (!this.#loaded) await this.#loadFromD1(accountId, now);
    });
  }

  async #loadFromD1(accountId: string, now: number): Promise<void> {
    const stored = this.#storage.getMeta(ACCOUNT_META_KEY);
    if (stored !== null && stored !== accountId) throw new Error("account object called for another account");
    const [row, keyRows] = await Promise.all([getAccountRow(this.env.DB, accountId), listKeyRowsOfAccount(this.env.DB, accountId)]);
    if (!row) {
      // Nothing to keep: remember only in memory, so junk accounts leave no storage behind.
      this.#absentCheckedAt = now;
      return;
    }
    const account = toAccountState(row);
    const keys = keyRows.map((keyRow) => {
      const fresh = toKeyState(keyRow);
      const known = this.#keys.get(fresh.hash);
      if (!known || known.id !== fresh.id) return fresh;
      return {
        ...fresh,
        revokedAt: earliest(known.revokedAt, fresh.revokedAt),
        rotatedTo: fresh.rotatedTo ?? known.rotatedTo,
        lastUsedAt: Math.max(known.lastUsedAt ?? 0, fresh.lastUsedAt ?? 0) || null,
      };
    });
    this.#storage.writeAccount(account);
    this.#storage.replaceKeys(keys);
    this.#storage.setMeta(ACCOUNT_META_KEY, accountId);
    this.#storage.setMeta(LOADED_META_KEY, String(now));
    this.#account = account;
    this.#keys = new Map(keys.map((k) => [k.hash, k]));
    this.#loaded = true;
    this.#absentCheckedAt = null;
    log("info", "account object loaded from D1", { accountId, keys: keys.length });
  }

  /** Records a use at most once per key per minute, and schedules the flush to D1. */
  async #touch(key: KeyState, now: number): Promise<void> {
    if (key.lastUsedAt !== null && now - key.lastUsedAt < LAST_USED_RESOLUTION_MS) return;
    key.lastUsedAt = now;
    this.#storage.recordLastUsed(key.hash, now);
    if (this.#alarmPending) return;
    this.#alarmPending = true;
    await this.ctx.storage.setAlarm(now + LAST_USED_FLUSH_DELAY_MS);
  }
}

/** The stub of an account's object. Ids come from the name, so no lookup is needed. */
export function accountObject(env: Pick<Env, "ACCOUNTS">, accountId: string): DurableObjectStub<AccountDO> {
  return env.ACCOUNTS.get(env.ACCOUNTS.idFromName(accountId));
}
