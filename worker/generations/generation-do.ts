/**
 * @module generation-do
 * One Durable Object per generation (`idFromName(name)`): it owns the backend
 * call, not the client connection. It reads the backend's stream as fast as
 * it comes, keeps the events in memory and in SQLite (in batches), fans them
 * out to every subscriber, each at its own pace, and writes each admitted
 * request's one usage record through the account's object when that request
 * is done with it.
 *
 * The object's name is the cache key for a cacheable request (so identical
 * requests meet in one object and coalesce), a random id otherwise. A
 * generation id is `gen_<name>_<run>`: a refresh (`no-cache`) starts run n+1
 * in the same object, and the old id stops resolving.
 *
 * Billing (each admitted request ends in exactly one record):
 * - the request that caused the run pays normal prices: the backend's usage
 *   when it read the answer to its end; if it left, what the run produced
 *   until the grace period after its last connection ended (if nobody else
 *   is reading, the run is cancelled then, so that is all it produced);
 * - a request that joined a running generation (COALESCED) or replayed a
 *   finished one (HIT) is billed `cached: true` for what it was given;
 * - a background request is billed when the run ends.
 */
import { DurableObject } from "cloudflare:workers";
import { GENERATION_RETENTION_SECONDS, type CacheVerdict, type GenerationObject } from "../../shared/generations";
import { errorBody } from "../../shared/errors";
import { SseSplitter, sseEvent } from "../../shared/sse";
import type { UsageStatus } from "../../shared/usage";
import type { Env } from "../env";
import { ApiError } from "../core/errors";
import { log } from "../core/log";
import { openRoutedStream } from "../routing/router";
import type { WatchedReader } from "../routing/watchdog";
import { settleUsage } from "../accounts/ledger/metering";
import { routingPolicy } from "../routing/policy";
import { loadDeployment, resolveModel } from "../routing/catalogue";
import { BACKEND_FAILED_EVENT, classifyEvent } from "../streams/stream-events";
import type { SettleRequest } from "../accounts/account-rpc";
import type { RequestTicket, StartRequest, StartResult, WireError } from "./generation-rpc";
import { CANCELLED_EVENT, Run, type RunMeta, type TicketState } from "./generation-run";
import { BATCH_MAX_BYTES, BATCH_MAX_EVENTS, GenerationStorage } from "./generation-storage";

/** Longest a batch of events waits in memory before it is written, in ms. */
const BATCH_FLUSH_DELAY_MS = 250;
/** While a run is going, the alarm fires this often, in ms: it keeps the object awake and is the grace check's backstop. */
const HEARTBEAT_MS = 30_000;

const FAILED_EVENT = BACKEND_FAILED_EVENT.trimEnd();
/** What `start` answers a request whose client left while the backend was being opened (nobody reads it). */
const CLIENT_GONE: WireError = { code: "backend_error", message: "The client went away.", param: null, headers: {} };

export class GenerationDO extends DurableObject<Env> {
  readonly #storage: GenerationStorage;
  #run: Run | null = null;
  #name = "";
  /** Events not yet written: the first one's position (the rest follow it in `run.events`) and their size. */
  #pending: { first: number; bytes: number } | null = null;
  #flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#storage = new GenerationStorage(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      this.#storage.migrate();
      const meta = this.#storage.latest();
      if (!meta) return;
      const run = new Run(meta);
      run.events.push(...this.#storage.events(meta.run));
      recount(run);
      // A run that was going when the object stopped cannot be picked up again: its backend call is gone.
      if (!run.ended) {
        run.end("failed", { code: "backend_error", message: "The generation was interrupted." });
        this.#storage.putRun(run.meta);
      }
      this.#run = run;
    });
  }

  /** Starts a generation, joins the running one, or replays the finished one (a cache hit). */
  async start(request: StartRequest): Promise<StartResult> {
    this.#name = request.name;
    const now = Date.now();
    let run = this.#run;
    let verdict: CacheVerdict;
    const usable = run && request.cache && !(run.meta.expiresAt !== null && run.meta.expiresAt <= now);
    if (usable && run && !run.ended) verdict = "COALESCED";
    else if (usable && run && run.meta.status === "completed" && request.cache!.read) verdict = "HIT";
    else {
      verdict = "MISS";
      run = this.#begin(request, now);
    }
    const joiningAccount = !run.meta.viewers.includes(request.ticket.accountId);
    if (joiningAccount) run.meta.viewers.push(request.ticket.accountId);
    // A background request joining a foreground run keeps it going when the foreground clients leave.
    const becomesBackground = request.background && !run.meta.background;
    if (becomesBackground) run.meta.background = true;
    if (joiningAccount || becomesBackground) this.#storage.putRun(run.meta);
    const id = generationId(request.name, run.meta.run);
    const ticket: TicketState = {
      info: request.ticket,
      role: verdict === "MISS" ? "generated" : verdict === "HIT" ? "hit" : "coalesced",
      attached: 1,
      settled: false,
      background: request.background,
      position: 0,
      pendingOpen: true,
    };
    // Counted as a reader while the backend is being opened: a client that leaves meanwhile calls `abandon`.
    run.tickets.set(request.ticket.requestId, ticket);
    run.connections++;
    // A streaming client does not wait out a cold start in silence: once the router is
    // holding the request for a cold backend, it gets its stream (keep-alive comments,
    // then the answer, or an error event if no backend came up in time).
    const streamsNow = request.ticket.streaming && !request.background;
    const openError = await (streamsNow ? Promise.race([run.opened, run.waitingStarted.then(() => null)]) : run.opened);
    if (!ticket.pendingOpen) return { kind: "error", error: CLIENT_GONE };
    ticket.pendingOpen = false;
    ticket.attached--;
    run.connections--;
    if (openError) {
      this.#settle(run, ticket, "backend_error", 0, 0);
      return { kind: "error", error: openError };
    }
    if (request.background) {
      if (run.ended) this.#settleAtEnd(run, ticket);
      return { kind: "accepted", id, cache: verdict, generation: this.#describe(run, id) };
    }
    return { kind: "stream", id, cache: verdict, stream: this.#subscribe(run, ticket, request.graceMs) };
  }

  /** The client of a request still waiting for the backend went away: as a disconnect. */
  async abandon(requestId: string, graceMs: number): Promise<void> {
    const run = this.#run;
    const ticket = run?.tickets.get(requestId);
    if (!run || !ticket || !ticket.pendingOpen) return;
    ticket.pendingOpen = false;
    ticket.attached--;
    run.connections--;
    this.#left(run, ticket, 0, graceMs);
  }

  /** The generation object, or null when it does not exist for this account. */
  async describe(accountId: string, name: string, runNo: number): Promise<GenerationObject | null> {
    const run = this.#visible(accountId, name, runNo);
    return run ? this.#describe(run, generationId(name, runNo)) : null;
  }

  /**
   * The run's events after `lastEventId` (0: from the start), usage chunk
   * included. A resume by the account whose request caused a foreground run
   * counts as that request coming back.
   */
  async stream(accountId: string, name: string, runNo: number, lastEventId: number, graceMs: number): Promise<ReadableStream<Uint8Array> | null> {
    const run = this.#visible(accountId, name, runNo);
    if (!run) return null;
    const returning = [...run.tickets.values()].find(
      (t) => t.role === "generated" && !t.settled && !t.background && t.info.accountId === accountId,
    );
    if (returning) returning.attached++;
    run.connections++;
    return run.sse(Math.min(lastEventId, run.events.length), true, (done, _delivered, position) => {
      run.connections--;
      if (returning) {
        returning.attached--;
        returning.position = Math.max(returning.position, position);
        if (done) this.#settleAtEnd(run, returning);
        else if (returning.attached === 0) this.#graceFor(run, returning, graceMs);
      }
      this.#checkAbandoned(run, graceMs);
    });
  }

  /** Cancels a running generation (and its backend call); returns the generation, or null if unknown. */
  async cancel(accountId: string, name: string, runNo: number): Promise<GenerationObject | null> {
    const run = this.#visible(accountId, name, runNo);
    if (!run) return null;
    this.#stop(run, "cancelled");
    return this.#describe(run, generationId(name, runNo));
  }

  /** Forgets an expired run; keeps a running one's object awake. */
  override async alarm(): Promise<void> {
    const run = this.#run;
    if (!run) return;
    const now = Date.now();
    if (run.ended && run.meta.expiresAt !== null && run.meta.expiresAt <= now && run.connections === 0) {
      this.#run = null;
      await this.ctx.storage.deleteAll();
      return;
    }
    this.#scheduleAlarm(run);
  }

  #begin(request: StartRequest, now: number): Run {
    const previous = this.#run;
    const meta: RunMeta = {
      run: (previous?.meta.run ?? 0) + 1,
      status: "in_progress",
      model: request.ticket.model,
      endpoint: request.endpoint,
      background: request.background,
      cacheable: request.cache !== null,
      backend: "none",
      createdAt: now,
      completedAt: null,
      expiresAt: null,
      retainMs: (request.cache?.ttlSeconds ?? 0) * 1000 || GENERATION_RETENTION_MS,
      viewers: [request.ticket.accountId],
      error: null,
      usage: null,
    };
    const run = new Run(meta);
    run.keepAliveMs = routingPolicy({ ...this.env, ...request.routing.vars }).keepaliveIntervalMs;
    this.#run = run;
    this.#pending = null;
    this.#storage.startRun(meta);
    run.opened = this.#open(run, request);
    this.#scheduleAlarm(run);
    return run;
  }

  /**
   * Calls a backend through the router (choice, retries before the first byte,
   * capacity, cold-start hold); resolves once one answered, then pumps its
   * stream in the background.
   */
  async #open(run: Run, request: StartRequest): Promise<WireError | null> {
    let upstream: WatchedReader;
    try {
      const deployment = loadDeployment(request.routing.backends);
      const routed = await openRoutedStream({
        env: { ...this.env, ...request.routing.vars },
        deployment,
        model: resolveModel(deployment, request.ticket.model),
        mode: request.ticket.mode,
        path: request.path,
        body: request.backendBody,
        signal: run.abort.signal,
        priority: request.background ? "background" : "interactive",
        onWaiting: () => run.setWaiting(true),
        onAttempt: (backend) => (run.meta.backend = backend.name),
        waitUntil: (promise) => this.ctx.waitUntil(promise),
      });
      upstream = routed.body;
      run.timedOut = routed.timedOut;
    } catch (err) {
      const wire = toWireError(err);
      // Readers already attached (a streaming client held through a cold start) see the error as an event.
      if (run.waiting) this.#append(run, sseEvent(JSON.stringify(errorBody(wire.code, wire.message, wire.param))).trimEnd(), 0);
      run.setWaiting(false);
      run.end(run.abort.signal.aborted ? "cancelled" : "failed", { code: wire.code, message: wire.message });
      this.#storage.putRun(run.meta);
      this.#scheduleAlarm(run);
      return wire;
    }
    run.setWaiting(false);
    this.ctx.waitUntil(this.#pump(run, upstream));
    return null;
  }

  async #pump(run: Run, reader: WatchedReader): Promise<void> {
    const splitter = new SseSplitter();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        // Nobody reading a foreground run: hold the backend back until a reader returns or the grace ends.
        await run.untilRead();
        if (run.ended) return;
        const { done, value } = await reader.read();
        if (run.ended) return;
        if (done) return this.#fail(run, "backend stream ended without [DONE]");
        for (const event of splitter.push(decoder.decode(value, { stream: true }))) {
          const kind = classifyEvent(event);
          switch (kind.kind) {
            case "chunk":
              this.#append(run, event, event.includes(':""') ? 0 : 1, false);
              break;
            case "usage":
              run.usageIndex = run.events.length;
              run.meta.usage = kind.usage;
              this.#append(run, event, 0, false);
              break;
            case "done":
              reader.cancel("done");
              this.#append(run, event, 0);
              return this.#finish(run, "completed");
            case "error":
              return this.#fail(run, `backend error event: ${kind.message}`);
            case "other":
              break;
          }
        }
        // Readers wake once for everything this read brought.
        run.wake();
      }
    } catch (err) {
      if (!run.ended) this.#fail(run, `backend stream broke: ${String(err)}`);
    } finally {
      // After [DONE] this changes nothing; otherwise the backend is told to stop.
      reader.cancel("cancelled");
    }
  }

  /** Adds an event to the run and to the next stored batch; `wake: false` leaves waking the readers to the caller. */
  #append(run: Run, event: string, tokens: number, wake = true): void {
    run.append(event, tokens, wake);
    const pending = (this.#pending ??= { first: run.events.length - 1, bytes: 0 });
    pending.bytes += event.length;
    if (run.events.length - pending.first >= BATCH_MAX_EVENTS || pending.bytes >= BATCH_MAX_BYTES) this.#flush(run);
    else this.#flushTimer ??= setTimeout(() => this.#flush(run), BATCH_FLUSH_DELAY_MS);
  }

  #flush(run: Run): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    const pending = this.#pending;
    this.#pending = null;
    if (!pending || pending.first >= run.events.length || this.#run !== run) return;
    this.#storage.appendBatch(run.meta.run, pending.first, run.events.slice(pending.first));
  }

  #fail(run: Run, reason: string): void {
    log("warn", "generation failed", { name: this.#name, run: run.meta.run, reason });
    this.#append(run, FAILED_EVENT, 0);
    this.#finish(run, "failed", { code: "backend_error", message: "The model backend failed while generating." });
  }

  /** Stops a run that is still going: its backend call is aborted (the GPU stops), its readers see the end. */
  #stop(run: Run, status: "cancelled"): void {
    if (run.ended) return;
    run.abort.abort();
    this.#append(run, CANCELLED_EVENT, 0);
    this.#finish(run, status, { code: "generation_cancelled", message: "The generation was cancelled." });
  }

  #finish(run: Run, status: "completed" | "failed" | "cancelled", error: RunMeta["error"] = null): void {
    run.end(status, error);
    this.#flush(run);
    this.#storage.putRun(run.meta);
    // A completed run is in the usage ledger (one record per request it answered); the log carries the rest.
    if (status !== "completed") log("info", "generation ended", { name: this.#name, run: run.meta.run, status, tokens: run.produced, usage: run.meta.usage });
    for (const ticket of run.tickets.values()) if (ticket.background) this.#settleAtEnd(run, ticket);
    this.#scheduleAlarm(run);
  }

  #subscribe(run: Run, ticket: TicketState, graceMs: number): ReadableStream<Uint8Array> {
    ticket.attached++;
    run.connections++;
    const ended = (done: boolean, delivered: number, position: number) => {
      ticket.attached--;
      run.connections--;
      ticket.position = Math.max(ticket.position, position);
      if (done) this.#settleAtEnd(run, ticket, delivered);
      else this.#left(run, ticket, delivered, graceMs);
      this.#checkAbandoned(run, graceMs);
    };
    if (!ticket.info.streaming) return run.json((done) => ended(done, done ? run.produced : 0, done ? run.events.length : 0));
    return run.sse(0, ticket.info.includeUsage, ended, run.keepAliveMs);
  }

  /** A client went away: the causing request gets the grace period to come back; a joiner pays for what it got. */
  #left(run: Run, ticket: TicketState, delivered: number, graceMs: number): void {
    if (ticket.role === "generated") {
      if (ticket.attached === 0) this.#graceFor(run, ticket, graceMs);
    } else {
      this.#settle(run, ticket, "client_disconnected", ticket.info.promptTokensEstimate, ticket.info.streaming ? delivered : 0);
    }
    this.#checkAbandoned(run, graceMs);
  }

  /** A request that is done with the run (read it to the end, or a background one when it ends). */
  #settleAtEnd(run: Run, ticket: TicketState, delivered = run.produced): void {
    const usage = run.meta.usage;
    switch (run.meta.status) {
      case "completed":
        return this.#settle(run, ticket, "ok", usage?.prompt_tokens ?? 0, usage?.completion_tokens ?? run.produced);
      case "cancelled":
        return this.#settle(run, ticket, "client_disconnected", ticket.info.promptTokensEstimate, ticket.role === "generated" ? run.produced : delivered);
      default:
        return this.#settle(run, ticket, run.timedOut() ? "timeout" : "backend_error", 0, ticket.info.streaming || ticket.background ? delivered : 0);
    }
  }

  /**
   * The causing request left: after the grace period, unless it came back, it
   * pays for what it was given (over its own stream and its account's resumes),
   * never for tokens it did not get.
   */
  #graceFor(run: Run, ticket: TicketState, graceMs: number): void {
    setTimeout(() => {
      if (ticket.settled || ticket.attached > 0) return;
      const usage = run.meta.status === "completed" ? run.meta.usage : null;
      const all = usage !== null && ticket.position >= run.events.length;
      const given = run.tokensBetween(0, ticket.info.streaming ? ticket.position : 0);
      this.#settle(run, ticket, "client_disconnected", usage?.prompt_tokens ?? ticket.info.promptTokensEstimate, all ? usage.completion_tokens : given);
    }, graceMs + 1);
  }

  /** A foreground run nobody reads any more is cancelled after the grace period (a reconnect within it resumes). */
  #checkAbandoned(run: Run, graceMs: number): void {
    if (run.connections > 0 || run.ended || run.meta.background) return;
    setTimeout(() => {
      if (run.connections === 0 && !run.ended && !run.meta.background) {
        log("info", "generation abandoned: cancelling", { name: this.#name, run: run.meta.run, tokens: run.produced });
        this.#stop(run, "cancelled");
      }
    }, graceMs);
  }

  #settle(run: Run, ticket: TicketState, status: UsageStatus, promptTokens: number, completionTokens: number): void {
    if (ticket.settled) return;
    ticket.settled = true;
    const { info } = ticket;
    const now = Date.now();
    const body = status === "ok" && info.idempotencyKey ? run.body() : null;
    const request: SettleRequest = {
      requestId: info.requestId,
      keyId: info.keyId,
      model: info.model,
      backend: ticket.role === "generated" ? run.meta.backend : "cache",
      mode: info.mode,
      promptTokens,
      completionTokens,
      cached: ticket.role !== "generated",
      status,
      ttftMs: run.firstTokenAt !== null && ticket.role === "generated" ? Math.max(0, run.firstTokenAt - info.admittedAt) : null,
      durationMs: now - info.admittedAt,
      now,
      idempotency: info.idempotencyKey ? { key: info.idempotencyKey, response: body ? JSON.stringify(body) : null } : undefined,
    };
    this.ctx.waitUntil(settleUsage(this.env, info.accountId, request));
  }

  #visible(accountId: string, name: string, runNo: number): Run | null {
    this.#name ||= name;
    const run = this.#run;
    if (!run || run.meta.run !== runNo || !run.meta.viewers.includes(accountId)) return null;
    if (run.ended && run.meta.expiresAt !== null && run.meta.expiresAt <= Date.now()) return null;
    return run;
  }

  #describe(run: Run, id: string): GenerationObject {
    const { meta } = run;
    const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
    return {
      id,
      object: "generation",
      status: meta.status,
      created_at: Math.floor(meta.createdAt / 1000),
      completed_at: seconds(meta.completedAt),
      expires_at: seconds(meta.expiresAt),
      model: meta.model,
      result: run.body(),
      error: meta.error,
    };
  }

  #scheduleAlarm(run: Run): void {
    const at = run.ended ? (run.meta.expiresAt ?? Date.now()) : Date.now() + HEARTBEAT_MS;
    void this.ctx.storage.setAlarm(at);
  }
}

/** How long a finished uncached generation stays readable, in ms. */
const GENERATION_RETENTION_MS = GENERATION_RETENTION_SECONDS * 1000;

export function generationId(name: string, run: number): string {
  return `gen_${name}_${run}`;
}

/** The object name and run of a generation id, or null if it is not one. */
export function parseGenerationId(id: string): { name: string; run: number } | null {
  const match = /^gen_([0-9a-f]{32}|[0-9a-f]{64})_([1-9]\d{0,8})$/.exec(id);
  return match ? { name: match[1]!, run: Number(match[2]) } : null;
}

export function generationObject(env: Pick<Env, "GENERATIONS">, name: string): DurableObjectStub<GenerationDO> {
  return env.GENERATIONS.get(env.GENERATIONS.idFromName(name));
}

function toWireError(err: unknown): WireError {
  if (err instanceof ApiError) {
    if (err.internal) log("warn", "backend refused a generation", { internal: err.internal });
    return { code: err.code, message: err.message, param: err.param, headers: err.headers };
  }
  log("error", "generation failed to start", { error: String(err) });
  return { code: "backend_error", message: "The model backend failed to answer. Please retry shortly.", param: null, headers: { "retry-after": "5" } };
}

/** Rebuilds token counts and the usage chunk's position after a restart. */
function recount(run: Run): void {
  let total = 0;
  run.events.forEach((event, i) => {
    const kind = classifyEvent(event);
    if (kind.kind === "chunk" && !event.includes(':""')) total++;
    if (kind.kind === "usage") run.usageIndex = i;
    run.tokensAt.push(total);
  });
}

