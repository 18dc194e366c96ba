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
import { ANSWER_CHECK_MODEL } from "../../shared/answers";
import { effectiveLimits } from "../../shared/plans";
import { costMicroUsd } from "../../shared/usage";
import { log } from "../core/log";
import type { Env } from "../env";
import { ERROR_CODES } from "../../shared/errors";
import type { RefusalCount } from "../../shared/refusals";
import { REFUSAL_RETENTION_MS, RefusalStorage } from "./refusals/refusal-storage";
import type { AccountRpc, AdmitRequest, AdmitResponse, LedgerEntry, MintClientTokenRequest, MintClientTokenResult, RefusalEvent, SettleRequest } from "./account-rpc";
import { decide, earliest, type AccountState, type AuthorizeRequest, type AuthorizeResult, type KeyState } from "./account-state";
import { AccountStorage } from "./account-storage";
import { decideToken, outsideKey, type ClientTokenState } from "./client-tokens/client-token-state";
import { scopeNeed } from "./end-users/scope";
import { ScopeStorage } from "./end-users/scope-storage";
import { checkScopes, reservedByToken, resolveEndUser, scopedSnapshot, takeScopes } from "./end-users/scoped-admission";
import { getAccountRow, toAccountState } from "./accounts-db";
import { flushLastUsed, listKeyRowsOfAccount, toKeyState } from "./keys/keys-db";
import { LedgerStorage } from "./ledger/ledger-storage";
import { ROLLUP_BATCH_SIZE, writeUsageRecords } from "./ledger/usage-db";
import { admit, currentSnapshot, expire, nextExpiry, settle, type AdmissionState, type EffectiveLimits, type RateLimitSnapshot } from "./limits/admission";
import { AdmissionStorage } from "./limits/admission-storage";

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

/** How long after a ledger entry the alarm copies it to D1: entries batch up meanwhile. */
const ROLLUP_DELAY_MS = 2_000;
/** Statements one roll-up may send to D1 (each up to ROLLUP_BATCH_SIZE records). */
const ROLLUP_MAX_BATCHES = 5;
/** Retry delay after a failed roll-up (D1 unreachable), doubled up to the cap. */
const ROLLUP_RETRY_MIN_MS = 5_000;
const ROLLUP_RETRY_MAX_MS = 300_000;
/** Ledger entries stay in the object this long after reaching D1, for reconciliation. */
const LEDGER_RETENTION_MS = 35 * 24 * 3600 * 1000;
/**
 * How long a reservation may stay unsettled before the alarm settles it: longer
 * than any generation (an 18-minute answer, plus cold start and queueing).
 */
export const RESERVATION_TTL_MS = 45 * 60 * 1000;
/** How long an Idempotency-Key's answer is kept for retries: 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

/** The meta row that says this object's state came from D1 (it is not merely empty). */
const LOADED_META_KEY = "loaded_at";
const ACCOUNT_META_KEY = "account_id";

export class AccountDO extends DurableObject<Env> implements AccountRpc {
  readonly #storage: AccountStorage;
  readonly #admissions: AdmissionStorage;
  readonly #ledger: LedgerStorage;
  readonly #refusals: RefusalStorage;
  /** End users' rows and client tokens: read per request, never all in memory. */
  readonly #scopes: ScopeStorage;
  #admission!: AdmissionState;
  /** When the alarm is set for, as far as this object knows (null: none). */
  #alarmAt: number | null = null;
  #rollupFailures = 0;
  #account: AccountState | null = null;
  /** Keys by hash: the hot path's one lookup. */
  #keys = new Map<string, KeyState>();
  #loaded = false;
  #absentCheckedAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#storage = new AccountStorage(ctx.storage.sql);
    this.#admissions = new AdmissionStorage(ctx.storage.sql);
    this.#ledger = new LedgerStorage(ctx.storage.sql);
    this.#refusals = new RefusalStorage(ctx.storage.sql);
    this.#scopes = new ScopeStorage(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      this.#storage.migrate();
      this.#refusals.migrate();
      this.#admission = this.#admissions.readAdmission(Date.now());
      this.#alarmAt = await ctx.storage.getAlarm();
      if (this.#storage.getMeta(LOADED_META_KEY) !== null) this.#readStorage();
    });
  }

  /** May this key be used, now, from this origin? (Routes that generate nothing.) */
  async authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    await this.#ensureLoaded(request.accountId, request.now);
    const { auth, key } = this.#decideCaller(request);
    if (auth.ok && key) this.#touch(key, request.now);
    else if (!auth.ok) this.#countRefusal(key, request.now, auth.code);
    return auth;
  }

  /**
   * The generation hot path, in one call: authorize the key, check every limit
   * and reserve the request's worst case, atomically (the object runs one call
   * at a time, so N concurrent requests against a limit of L admit exactly L).
   */
  async admit(request: AdmitRequest): Promise<AdmitResponse> {
    await this.#ensureLoaded(request.accountId, request.now);
    const { auth, key, token } = this.#decideCaller(request);
    if (!auth.ok) {
      this.#countRefusal(key, request.now, auth.code);
      return { ok: false, kind: "auth", refusal: auth };
    }
    const { principal } = auth;
    // An answer check (shared/answers.ts) uses no model: a key limited to some models may still check.
    if (principal.models !== null && request.model !== ANSWER_CHECK_MODEL && !principal.models.includes(request.model)) return { ok: false, kind: "model" };
    const resolved = resolveEndUser(principal.endUser, request.endUser, this.#account?.endUsers?.requireEndUser === true);
    if (!resolved.ok) return { ok: false, kind: "end_user", reason: resolved.reason };
    if (request.idempotency) {
      const seen = this.#ledger.getIdempotency(request.idempotency.key);
      if (seen && request.now - seen.createdAt < IDEMPOTENCY_TTL_MS) {
        if (seen.fingerprint !== request.idempotency.fingerprint) return { ok: false, kind: "idempotency", reason: "mismatch" };
        if (seen.response === null) return { ok: false, kind: "idempotency", reason: "in_progress" };
        return { ok: false, kind: "replay", response: seen.response };
      }
    }
    const limits = this.#limits();
    // The end user's and the client token's limits pass first, and are taken only if the account's pass too.
    const scopes = this.#scopes.load(this.#account, resolved.endUser, token, request.now);
    const scoped = checkScopes(scopes, this.#admission.inFlight, scopeNeed(request.promptTokens, request.n, request.maxTokens, request.maxTokensFlexible), request.now);
    if (!scoped.ok) {
      const { code, message, retryAfterMs, shouldRetry } = scoped;
      return { ok: false, kind: "limit", code, message, retryAfterMs, shouldRetry, snapshot: { ...currentSnapshot(this.#admission, limits, request.now), ...scoped.snapshot } };
    }
    const result = admit(this.#admission, limits, {
      requestId: request.requestId,
      keyId: principal.keyId,
      model: request.model,
      mode: principal.mode,
      promptTokens: request.promptTokens,
      n: request.n,
      maxTokens: request.maxTokens,
      maxTokensFlexible: request.maxTokensFlexible,
      now: request.now,
      ttlMs: RESERVATION_TTL_MS,
      room: scoped.room,
      endUser: resolved.endUser,
      clientTokenId: token?.id ?? null,
    });
    // Only a granted request changes stored state; a refusal's bucket refill is recomputed from time.
    // Without per-minute limits there are no buckets to store (the month counter moves on settle).
    if (result.ok && (this.#admission.requests || this.#admission.tokens)) this.#admissions.writeAdmission(this.#admission);
    if (!result.ok) {
      const { code, message, retryAfterMs, shouldRetry, snapshot } = result;
      this.#countRefusal(key, request.now, code);
      return { ok: false, kind: "limit", code, message, retryAfterMs, shouldRetry, snapshot };
    }
    takeScopes(scopes);
    this.#scopes.save(scopes, request.now);
    this.#admissions.insertReservation(result.reservation);
    if (request.idempotency) {
      this.#ledger.startIdempotency(request.idempotency.key, request.idempotency.fingerprint, request.requestId, request.now);
    }
    this.#touch(key!, request.now);
    this.#scheduleAlarm(result.reservation.expiresAt);
    return { ok: true, principal: { ...principal, endUser: resolved.endUser }, maxTokens: result.maxTokens, rateLimits: scopedSnapshot(result.snapshot, scopes) };
  }

  /**
   * Ends an admitted request: one ledger entry (a repeat is ignored), the
   * reservation released, unused tokens refunded. Durable when it returns.
   */
  async settle(request: SettleRequest): Promise<void> {
    // A request still holding its reservation has no ledger entry yet (settling or expiring removes both at once).
    if (!this.#admission.inFlight.has(request.requestId) && this.#ledger.hasLedgerEntry(request.requestId)) return;
    if (request.idempotency) this.#ledger.finishIdempotency(request.idempotency.key, request.requestId, request.idempotency.response);
    const monthUsedBefore = this.#admission.monthUsed;
    const reservation = settle(
      this.#admission,
      this.#limits(),
      request.requestId,
      { promptTokens: request.promptTokens, completionTokens: request.completionTokens },
      request.now,
      request.mode,
    );
    this.#admissions.deleteReservation(request.requestId);
    if (reservation) this.#scopes.settle(this.#account, reservation, request.promptTokens + request.completionTokens, request.now);
    // The stored state changes only with a token bucket (the refund) or a month counter that moved (live keys).
    if (this.#admission.tokens || this.#admission.monthUsed !== monthUsedBefore) this.#admissions.writeAdmission(this.#admission);
    this.#ledger.appendLedger({
      request_id: request.requestId,
      key_id: request.keyId,
      end_user: request.endUser ?? reservation?.endUser ?? null,
      endpoint: request.endpoint ?? null,
      model: request.model,
      backend: request.backend,
      mode: request.mode,
      prompt_tokens: request.promptTokens,
      completion_tokens: request.completionTokens,
      cached: request.cached,
      status: request.status,
      ttft_ms: request.ttftMs,
      duration_ms: request.durationMs,
      cost_micro_usd: costMicroUsd(request.model, request.mode, request.promptTokens, request.completionTokens, request.cached),
      created_at: reservation?.admittedAt ?? request.now - request.durationMs,
    });
    this.#scheduleAlarm(request.now + ROLLUP_DELAY_MS);
  }

  /** The rate-limit headers' figures, without using anything. */
  async rateLimits(now: number): Promise<RateLimitSnapshot> {
    return currentSnapshot(this.#admission, this.#limits(), now);
  }

  /** Copies every pending ledger entry to D1 now (the usage APIs call it before reading D1). */
  async flushUsage(): Promise<void> {
    await this.#rollUp();
  }

  /** The ledger as this object holds it, newest first (reconciliation and tests). */
  async ledger(): Promise<LedgerEntry[]> {
    return this.#ledger.entries();
  }

  /** Requests admitted and not yet settled. */
  async inFlight(): Promise<number> {
    return this.#admission.inFlight.size;
  }

  /** Reloads the account from D1 (merging so that no revocation is undone). Returns whether it exists. */
  async sync(accountId: string): Promise<boolean> {
    await this.ctx.blockConcurrencyWhile(() => this.#loadFromD1(accountId, Date.now()));
    return this.#account !== null;
  }

  /** Pushes the account's status, plan and limits (after or before D1, see accounts-service). */
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

  /** Counts refusals the Worker decided (bad input, ...) for a key of this account; a stranger's key counts nothing. */
  async recordRefusals(accountId: string, keyHash: string, refusals: RefusalEvent[]): Promise<void> {
    await this.#ensureLoaded(accountId, Date.now());
    if (!this.#keys.has(keyHash)) return;
    for (const r of refusals) this.#refusals.add(r.at, r.status, r.code, r.count);
  }

  /** Refused requests by status and code over the minutes in from ≤ t < to. */
  async refusals(from: number, to: number): Promise<RefusalCount[]> {
    return this.#refusals.totals(from, to);
  }

  /**
   * Settles reservations whose Worker never came back, rolls the ledger up
   * into D1, and copies last-use times there. A failed D1 write is retried by
   * a later alarm with backoff; nothing is lost, since the entries stay here.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#alarmAt = null;
    this.#expireReservations(now);
    try {
      await this.#rollUp();
      await this.#flushLastUsed();
      this.#rollupFailures = 0;
    } catch (err) {
      this.#rollupFailures++;
      log("warn", "usage roll-up to D1 failed; will retry", { accountId: this.#account?.id, error: String(err) });
    }
    this.#ledger.pruneRolled(now - LEDGER_RETENTION_MS);
    this.#ledger.pruneIdempotency(now - IDEMPOTENCY_TTL_MS);
    this.#refusals.prune(now - REFUSAL_RETENTION_MS);
    const pruneAt = this.#scopes.prune(now);
    const retry = this.#rollupFailures > 0 || this.#ledger.hasUnrolled() || this.#storage.unflushedLastUsed().length > 0;
    // A backlog (no failure) continues at once; a failure backs off.
    const retryDelay =
      this.#rollupFailures === 0 ? ROLLUP_DELAY_MS : Math.min(ROLLUP_RETRY_MAX_MS, ROLLUP_RETRY_MIN_MS * 2 ** (this.#rollupFailures - 1));
    const next = [nextExpiry(this.#admission), retry ? now + retryDelay : null, pruneAt].filter((t): t is number => t !== null);
    if (next.length > 0) this.#scheduleAlarm(Math.min(...next));
  }

  /**
   * Stores a new client token for the presenting key: never wider than the key
   * (its models and origins within the key's), and of the key's mode.
   */
  async mintClientToken(request: MintClientTokenRequest): Promise<MintClientTokenResult> {
    await this.#ensureLoaded(request.accountId, request.now);
    const key = this.#keys.get(request.keyHash);
    const auth = decide(this.#account, key, request);
    if (!auth.ok) return { ok: false, kind: "auth", refusal: auth };
    const outside = outsideKey(key!, request.token);
    if (outside) return { ok: false, kind: "scope", ...outside };
    const token: ClientTokenState = { ...request.token, keyId: key!.id, mode: key!.mode, usedTokens: 0, usedRequests: 0 };
    this.#scopes.tokens.insert(token);
    this.#scheduleAlarm(token.expiresAt);
    return { ok: true, token };
  }

  /** The caller's decision: an API key by its hash, or a client token and the key that minted it. */
  #decideCaller(request: AuthorizeRequest): { auth: AuthorizeResult; key: KeyState | undefined; token: ClientTokenState | null } {
    if (!request.clientToken) {
      const key = this.#keys.get(request.keyHash);
      return { auth: decide(this.#account, key, request), key, token: null };
    }
    const token = this.#scopes.tokens.byHash(request.keyHash);
    if (!token) return { auth: decide(this.#account, undefined, request), key: undefined, token: null };
    const key = [...this.#keys.values()].find((k) => k.id === token.keyId);
    return { auth: decideToken(this.#account, key, token, request, reservedByToken(this.#admission.inFlight, token.id)), key, token };
  }

  #limits(): EffectiveLimits {
    const l = effectiveLimits(this.#account?.plan ?? "", this.#account?.limits ?? {});
    return {
      requestsPerMinute: l.requests_per_minute,
      tokensPerMinute: l.tokens_per_minute,
      maxConcurrent: l.max_concurrent_requests,
      monthlyTokenQuota: l.monthly_token_quota,
    };
  }

  /** Settles expired reservations as fully used: the ledger says `timeout`. */
  #expireReservations(now: number): void {
    for (const r of expire(this.#admission, this.#limits(), now)) {
      this.#admissions.deleteReservation(r.requestId);
      this.#scopes.settle(this.#account, r, r.promptTokens + r.completionTokens, now);
      this.#ledger.forgetUnfinishedIdempotency(r.requestId);
      this.#ledger.appendLedger({
        request_id: r.requestId,
        key_id: r.keyId,
        end_user: r.endUser ?? null,
        endpoint: null,
        model: r.model,
        backend: "unknown",
        mode: r.mode,
        prompt_tokens: r.promptTokens,
        completion_tokens: r.completionTokens,
        cached: false,
        status: "timeout",
        ttft_ms: null,
        duration_ms: now - r.admittedAt,
        cost_micro_usd: costMicroUsd(r.model, r.mode, r.promptTokens, r.completionTokens, false),
        created_at: r.admittedAt,
      });
      log("warn", "reservation expired unsettled", { accountId: this.#account?.id, requestId: r.requestId });
    }
    this.#admissions.writeAdmission(this.#admission);
  }

  /**
   * Copies unrolled ledger entries to D1, batch by batch; throws if D1 fails.
   * At most ROLLUP_MAX_BATCHES statements a call (D1 allows 1,000 queries an invocation);
   * a backlog beyond that is left for the next alarm, which the caller sets.
   */
  async #rollUp(): Promise<void> {
    const accountId = this.#account?.id ?? this.#storage.getMeta(ACCOUNT_META_KEY);
    if (!accountId) return;
    for (let i = 0; i < ROLLUP_MAX_BATCHES; i++) {
      const batch = this.#ledger.unrolled(ROLLUP_BATCH_SIZE);
      if (batch.length === 0) return;
      await writeUsageRecords(this.env.DB, batch.map((b) => ({ ...b.entry, account_id: accountId })));
      this.#ledger.markRolledThrough(batch.at(-1)!.seq);
    }
  }

  async #flushLastUsed(): Promise<void> {
    const accountId = this.#account?.id;
    const entries = this.#storage.unflushedLastUsed();
    if (!accountId || entries.length === 0) return;
    await flushLastUsed(this.env.DB, accountId, entries);
    this.#storage.markFlushed(entries);
  }

  /** Makes sure the alarm fires no later than `at`. */
  #scheduleAlarm(at: number): void {
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    void this.ctx.storage.setAlarm(at);
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

  /**
   * Counts a refusal this object decided, in the call that decided it (one
   * upsert; admitted requests never pay it). Only for keys the account knows:
   * a made-up key naming the account cannot inflate its counters.
   */
  #countRefusal(key: KeyState | undefined, now: number, code: keyof typeof ERROR_CODES): void {
    if (this.#account && key) this.#refusals.add(now, ERROR_CODES[code].status, code);
  }

  /** Records a use at most once per key per minute, and schedules the flush to D1. */
  #touch(key: KeyState, now: number): void {
    if (key.lastUsedAt !== null && now - key.lastUsedAt < LAST_USED_RESOLUTION_MS) return;
    key.lastUsedAt = now;
    this.#storage.recordLastUsed(key.hash, now);
    this.#scheduleAlarm(now + LAST_USED_FLUSH_DELAY_MS);
  }
}
