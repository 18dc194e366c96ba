/**
 * @module routing/backend-pool-do
 * One Durable Object (`idFromName("pool")`) that every isolate asks for a
 * backend: it picks one and leases it a slot in the same call, so a backend
 * never has more than its `max_in_flight` generations from us, whichever
 * isolates sent them. It also holds each backend's circuit breaker and the
 * latest health (polled by the cron trigger, and learnt from traffic), which
 * is what the pick needs and what `GET /admin/v1/backends` shows.
 *
 * Which requests ask it: those that may go to a capped backend (one with
 * `max_in_flight`), or whose candidates' breakers are not all closed. Uncapped
 * backends with closed breakers are chosen in the isolate from a copy of this
 * object's view (routing/pool-view), which reports back only failures, cold
 * starts and the success that ends a failure streak.
 *
 * Why one object and an RPC per capped request: per-isolate counts cannot bound what
 * a backend receives from hundreds of isolates, and a leased batch of slots
 * per isolate strands capacity that an idle isolate holds (a GPU has 8 slots,
 * not 8,000). A generation runs for minutes, so one more round trip to
 * route it exactly is a small price (acquire + release measured at ~3.6 ms a
 * request in local workerd, SQLite write included: `npm run bench:pool-cost`;
 * more when the object is in another colo). The release is sent after the
 * response (waitUntil), never in front of a token. One object serves every
 * backend: the traffic it sees is a few RPCs per generation, far below what a
 * single object sustains; shard by region if that ever changes.
 *
 * Leases are in SQLite (an evicted object must not forget what is in flight)
 * and expire after LEASE_TTL_MS, longer than any generation, in case an
 * isolate died without releasing. Breakers and health are soft state in
 * memory: losing them costs at most one cron period of worse choices.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { closedBreaker, onProbe, onResult, onSend, phaseAt } from "./breaker";
import { chooseBackend } from "./choose";
import { expectedAllStartedBy } from "./load-aware";
import type { AcquireRequest, AcquireResult, BackendView, BreakerState, HealthSnapshot, LeaseLoad, LeaseResult, PoolBackendStatus, PoolRpc, RequestLoad } from "./pool-rpc";

/** Longest a lease lives without a release: longer than any generation (18 min) plus a cold start. */
export const LEASE_TTL_MS = 45 * 60_000;
/** Longest a request may ask to wait for a slot, in ms (a bounded queue, never an unbounded one). */
const MAX_WAIT_MS = 30_000;
/** Most requests waiting for a slot at once; beyond that, `full` at once. */
const MAX_WAITERS = 1_000;

interface Waiter {
  request: AcquireRequest;
  seq: number;
  /** Unix ms it began to wait here, or its hold's start when the router gave one. */
  since: number;
  resolve: (result: AcquireResult) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class BackendPoolDO extends DurableObject<Env> implements PoolRpc {
  readonly #leases = new Map<string, { key: string; expiresAt: number; durable: boolean; load: RequestLoad | null; startedAt: number; allStartedBy: number | null }>();
  readonly #inFlight = new Map<string, number>();
  /** Sums of the leases' loads per backend (memory only, as the leases' loads: after an eviction, load-aware forgets the old leases). */
  readonly #load = new Map<string, { sequences: number; kvTokens: number }>();
  /** Round robin's turn counter. */
  #turn = 0;
  readonly #breakers = new Map<string, BreakerState>();
  readonly #health = new Map<string, HealthSnapshot>();
  #waiters: Waiter[] = [];
  #seq = 0;
  /** A look at held load-aware requests again, when an estimate may run out before any lease ends. */
  #recheck: ReturnType<typeof setTimeout> | null = null;
  #alarmSet = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, key TEXT NOT NULL, expires_at INTEGER NOT NULL)");
      for (const row of ctx.storage.sql.exec<{ id: string; key: string; expires_at: number }>("SELECT id, key, expires_at FROM leases")) {
        this.#leases.set(row.id, { key: row.key, expiresAt: row.expires_at, durable: true, load: null, startedAt: row.expires_at - LEASE_TTL_MS, allStartedBy: null });
        this.#inFlight.set(row.key, (this.#inFlight.get(row.key) ?? 0) + 1);
      }
      this.#alarmSet = (await ctx.storage.getAlarm()) !== null;
    });
  }

  /** Picks a backend and leases it a slot, waiting up to `waitMs` (interactive first) when all are full. */
  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    this.#sweep(Date.now());
    const now = Date.now();
    const result = this.#tryGrant(request, now);
    const waitMs = Math.min(request.waitMs, MAX_WAIT_MS);
    if (result.ok || result.reason === "unavailable" || waitMs <= 0 || this.#waiters.length >= MAX_WAITERS) return result;
    return new Promise<AcquireResult>((resolve) => {
      const waiter: Waiter = {
        request,
        seq: ++this.#seq,
        since: request.heldSince ?? now,
        resolve,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          resolve({ ok: false, reason: result.reason, retryAfterMs: 1000 });
        }, waitMs),
      };
      this.#waiters.push(waiter);
      if (result.reason === "saturated") this.#scheduleRecheck(result.retryAfterMs);
    });
  }

  /** Ends a lease (idempotent) and records how the attempt went. */
  release(leaseId: string, result: LeaseResult): void {
    const lease = this.#leases.get(leaseId);
    if (!lease) return;
    this.#drop(leaseId, lease.key);
    this.report(lease.key, result);
  }

  /**
   * What an isolate routes uncapped backends by (routing/pool-view): each
   * backend's breaker, health and our in-flight count, as they are now.
   */
  views(keys: string[]): Record<string, BackendView> {
    return Object.fromEntries(keys.map((key) => [key, this.#view(key)]));
  }

  /** How an attempt the pool did not lease went (an uncapped backend routed in an isolate), or a lease's. */
  report(key: string, result: LeaseResult): void {
    const now = Date.now();
    const breaker = this.#breakers.get(key) ?? closedBreaker();
    this.#breakers.set(key, onResult(breaker, result === "cold" ? "neutral" : result, now));
    if (result === "cold" || result === "success") {
      const previous = this.#health.get(key);
      this.#health.set(key, {
        checkedAt: now,
        state: result === "cold" ? "cold" : "warm",
        running: previous?.running ?? null,
        waiting: previous?.waiting ?? null,
        kvCacheUsage: previous?.kvCacheUsage ?? null,
        source: "traffic",
      });
    }
    this.#pump();
  }

  /** Stores what the cron trigger read from each backend. */
  recordHealth(entries: { key: string; health: HealthSnapshot }[]): void {
    for (const { key, health } of entries) this.#health.set(key, health);
    this.#pump();
  }

  /** Pool state of the given backends (admin view). */
  status(keys: string[]): PoolBackendStatus[] {
    const now = Date.now();
    return keys.map((key) => {
      const breaker = this.#breakers.get(key) ?? closedBreaker();
      return {
        key,
        in_flight: this.#inFlight.get(key) ?? 0,
        breaker: { state: phaseAt(breaker, now), consecutive_failures: breaker.consecutiveFailures, opened_at: breaker.openedAt },
        health: this.#health.get(key) ?? null,
      };
    });
  }

  /** Leases held (of the given backend, or in all): 0 once everything has ended. */
  inFlight(key?: string): number {
    return key === undefined ? this.#leases.size : (this.#inFlight.get(key) ?? 0);
  }

  override async alarm(): Promise<void> {
    this.#alarmSet = false;
    this.#sweep(Date.now());
    if (this.#leases.size > 0) this.#setAlarm();
  }

  #tryGrant(request: AcquireRequest, now: number): AcquireResult {
    const seen = new Map<string, BackendView>();
    const view = (key: string) => seen.get(key) ?? seen.set(key, this.#view(key)).get(key)!;
    const choice = chooseBackend(request.candidates, view, now, Math.random, {
      policy: request.policy,
      load: request.load,
      overflow: request.overflow,
      noEarlyProbe: request.noEarlyProbe,
      turn: request.policy === "round-robin" ? this.#turn++ : 0,
    });
    if (!choice.ok) return choice;
    const leaseId = crypto.randomUUID();
    const expiresAt = now + LEASE_TTL_MS;
    // Only a capped backend's leases must survive an eviction (they bound what it receives); an
    // uncapped one's count only steers routing, so it stays in memory and costs no storage write.
    const durable = request.candidates.some((c) => c.key === choice.key && c.maxInFlight !== null);
    const load = request.load ?? null;
    // When its sequences start: now if each has a free one (max_sequences), else as our other leases end.
    const candidate = request.candidates.find((c) => c.key === choice.key);
    const allStartedBy = load && candidate ? expectedAllStartedBy(candidate, view(choice.key).leases ?? [], load.sequences, now) : null;
    this.#leases.set(leaseId, { key: choice.key, expiresAt, durable, load, startedAt: now, allStartedBy });
    this.#inFlight.set(choice.key, (this.#inFlight.get(choice.key) ?? 0) + 1);
    if (load) this.#addLoad(choice.key, load, 1);
    const breaker = this.#breakers.get(choice.key) ?? closedBreaker();
    this.#breakers.set(choice.key, choice.probe ? onProbe(breaker) : onSend(breaker, now));
    if (durable) this.ctx.storage.sql.exec("INSERT INTO leases (id, key, expires_at) VALUES (?, ?, ?)", leaseId, choice.key, expiresAt);
    if (!this.#alarmSet) this.#setAlarm();
    return choice.probe ? { ok: true, leaseId, key: choice.key, probe: true } : { ok: true, leaseId, key: choice.key };
  }

  #view(key: string): BackendView {
    const load = this.#load.get(key);
    const leases: LeaseLoad[] = [];
    for (const { key: on, load: l, startedAt, allStartedBy } of this.#leases.values()) {
      if (on === key && l) leases.push({ sequences: l.sequences, promptTokens: l.promptTokens, answerTokens: l.answerTokens, capTokens: l.capTokens, startedAt, allStartedBy });
    }
    return {
      inFlight: this.#inFlight.get(key) ?? 0,
      ...(load ? { load } : {}),
      ...(leases.length > 0 ? { leases } : {}),
      breaker: this.#breakers.get(key) ?? closedBreaker(),
      health: this.#health.get(key) ?? null,
    };
  }

  #drop(leaseId: string, key: string): void {
    const lease = this.#leases.get(leaseId);
    const durable = lease?.durable ?? false;
    if (lease?.load) this.#addLoad(key, lease.load, -1);
    this.#leases.delete(leaseId);
    const n = (this.#inFlight.get(key) ?? 1) - 1;
    if (n > 0) this.#inFlight.set(key, n);
    else this.#inFlight.delete(key);
    if (durable) this.ctx.storage.sql.exec("DELETE FROM leases WHERE id = ?", leaseId);
  }

  #addLoad(key: string, load: RequestLoad, sign: 1 | -1): void {
    const on = this.#load.get(key) ?? { sequences: 0, kvTokens: 0 };
    const next = { sequences: on.sequences + sign * load.sequences, kvTokens: on.kvTokens + sign * load.kvTokens };
    if (next.sequences <= 0) this.#load.delete(key);
    else this.#load.set(key, next);
  }

  /** Grants freed slots to waiters: interactive before background, then first come first served. */
  #pump(): void {
    if (this.#waiters.length === 0) return;
    this.#waiters.sort((a, b) => rank(a) - rank(b) || a.since - b.since || a.seq - b.seq);
    const now = Date.now();
    let recheckMs = Infinity;
    for (const waiter of [...this.#waiters]) {
      const result = this.#tryGrant(waiter.request, now);
      if (!result.ok && result.reason === "saturated") recheckMs = Math.min(recheckMs, result.retryAfterMs);
      if (!result.ok && result.reason !== "unavailable") continue;
      clearTimeout(waiter.timer);
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      waiter.resolve(result);
    }
    if (recheckMs < Infinity) this.#scheduleRecheck(recheckMs);
  }

  /** Pumps again in `ms` (once at a time): a held request may fit once a lease's estimate runs out. */
  #scheduleRecheck(ms: number): void {
    if (this.#recheck !== null) return;
    this.#recheck = setTimeout(() => {
      this.#recheck = null;
      this.#pump();
    }, ms);
  }

  /** Ends leases an isolate never released (it died): they must not hold slots forever. */
  #sweep(now: number): void {
    let freed = false;
    for (const [id, lease] of this.#leases) {
      if (lease.expiresAt > now) continue;
      this.#drop(id, lease.key);
      const breaker = this.#breakers.get(lease.key);
      if (breaker) this.#breakers.set(lease.key, onResult(breaker, "neutral", now));
      freed = true;
    }
    if (freed) this.#pump();
  }

  #setAlarm(): void {
    this.#alarmSet = true;
    void this.ctx.storage.setAlarm(Date.now() + LEASE_TTL_MS);
  }
}

const rank = (w: Waiter) => (w.request.priority === "interactive" ? 0 : 1);
