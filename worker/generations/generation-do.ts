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
 * requests meet in one object and coalesce), a random id otherwise; a
 * generation id (generation-rpc) names a run of it.
 *
 * Who pays what (the record itself is built by accounts/ledger/settlement):
 * the request that caused the run pays for what it was given: the backend's
 * usage when it read the answer to its end; if it left, what the run produced
 * until the grace period after its last connection ended (if nobody else is
 * reading, the run is cancelled then, so that is all it produced). A request
 * that joined a running generation (COALESCED) or replayed a finished one
 * (HIT) is billed `cached: true` for what it was given; a background request
 * when the run ends.
 */
import { DurableObject } from "cloudflare:workers";
import type { CacheVerdict, GenerationObject } from "../../shared/generations";
import { SseSplitter } from "../../shared/sse";
import { TokenCounter } from "../streams/token-counter";
import { settleUsage } from "../accounts/account-rpc";
import { remoteCas } from "../answers/checker-rpc";
import { givenTokens, settlement, type GenerationEnd } from "../accounts/ledger/settlement";
import { log } from "../core/log";
import type { Env } from "../env";
import { loadDeployment, resolveModel } from "../routing/catalogue";
import { routingPolicy } from "../routing/policy";
import { openRoutedStream } from "../routing/router";
import type { WatchedReader } from "../routing/watchdog";
import { withFinalAnswers } from "../streams/final-answers";
import { BACKEND_FAILED_EVENT, classifyEvent } from "../streams/stream-events";
import { generationId, toWireError, type GenerationRpc, type OpenTiming, type StartRequest, type StartResult, type WireError } from "./generation-rpc";
import { CANCELLED_ERROR, CANCELLED_EVENT, errorEvent, newRunMeta, newTicket, Run, type RunMeta, type TicketState } from "./generation-run";
import { BatchWriter, GenerationStorage } from "./generation-storage";

/** While a run is going, the alarm fires this often, in ms: it keeps the object awake and is the grace check's backstop. */
const HEARTBEAT_MS = 30_000;

const FAILED_EVENT = BACKEND_FAILED_EVENT.trimEnd();
/** What `start` answers a request whose client left while the backend was being opened (nobody reads it). */
const CLIENT_GONE: WireError = { code: "backend_error", message: "The client went away.", param: null, headers: {} };

export class GenerationDO extends DurableObject<Env> implements GenerationRpc {
  readonly #storage: GenerationStorage;
  #run: Run | null = null;
  #name = "";
  /** Writes the current run's events in batches. */
  #batches: BatchWriter | null = null;
  /** How each run's backend call was opened (Server-Timing for its first client). */
  readonly #openTiming = new WeakMap<Run, OpenTiming>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#storage = new GenerationStorage(ctx.storage);
    void ctx.blockConcurrencyWhile(async () => {
      const meta = this.#storage.latest();
      if (!meta) return;
      const run = Run.restore(meta, this.#storage.events(meta.run));
      // A run that was going when the object stopped cannot be picked up again: its backend call is gone.
      if (!run.ended) {
        run.end("failed", { code: "backend_error", message: "The generation was interrupted." });
        this.#storage.putRun(run.meta);
      }
      run.onMetaChange = () => this.#storage.putRun(run.meta);
      run.remote = remoteCas(this.env.CHECKER);
      this.#run = run;
    });
  }

  /** Nothing: by the time a call is delivered, the object exists (it stores nothing until a run starts). */
  async prepare(): Promise<void> {}

  /** A prepared object whose request never started: nothing to keep. */
  async discard(): Promise<void> {
    if (!this.#run) await this.#storage.deleteAll();
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
    // A vote asked for once is kept with the run: resumes and the generation object carry it too.
    const becomesVoted = request.ticket.vote === true && !run.meta.voted;
    if (becomesVoted) run.meta.voted = true;
    if (joiningAccount || becomesBackground || becomesVoted) this.#storage.putRun(run.meta);
    const id = generationId(request.name, run.meta.run);
    const ticket = newTicket(request, verdict);
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
      this.#settle(run, ticket, { status: "backend_error", givenTokens: 0 });
      return { kind: "error", error: openError };
    }
    if (request.background) {
      if (run.ended) this.#settleAtEnd(run, ticket);
      if (run.meta.voted) await run.vote();
      return { kind: "accepted", id, cache: verdict, generation: run.describe(id) };
    }
    const timing = verdict === "MISS" ? this.#openTiming.get(run) : undefined;
    return { kind: "stream", id, cache: verdict, stream: this.#subscribe(run, ticket, request.graceMs), ...(timing ? { timing } : {}) };
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
    if (!run) return null;
    if (run.meta.voted) await run.vote();
    return run.describe(generationId(name, runNo));
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
    const resumed = run.sse(Math.min(lastEventId, run.events.length), true, (done, _delivered, position) => {
      run.connections--;
      if (returning) {
        returning.attached--;
        returning.position = Math.max(returning.position, position);
        if (done) this.#settleAtEnd(run, returning);
        else if (returning.attached === 0) this.#graceFor(run, returning, graceMs);
      }
      this.#checkAbandoned(run, graceMs);
    }, undefined, run.meta.voted === true);
    return resumed;
  }

  /** Cancels a running generation (and its backend call); returns the generation, or null if unknown. */
  async cancel(accountId: string, name: string, runNo: number): Promise<GenerationObject | null> {
    const run = this.#visible(accountId, name, runNo);
    if (!run) return null;
    this.#stop(run);
    return run.describe(generationId(name, runNo));
  }

  /** Forgets an ended, uncached run nobody reads: its events and metadata are deleted now, not at expiry. */
  async forget(accountId: string, name: string, runNo: number): Promise<boolean> {
    const run = this.#visible(accountId, name, runNo);
    if (!run || !run.ended || run.meta.cacheable || run.connections > 0) return false;
    this.#run = null;
    this.#batches?.close();
    this.#batches = null;
    await this.#storage.deleteAll();
    return true;
  }

  /** Forgets an expired run; keeps a running one's object awake. */
  override async alarm(): Promise<void> {
    const run = this.#run;
    if (!run) return;
    const now = Date.now();
    if (run.ended && run.meta.expiresAt !== null && run.meta.expiresAt <= now && run.connections === 0) {
      this.#run = null;
      this.#batches?.close();
      await this.#storage.deleteAll();
      return;
    }
    this.#scheduleAlarm(run);
  }

  #begin(request: StartRequest, now: number): Run {
    const meta = newRunMeta(request, (this.#run?.meta.run ?? 0) + 1, now);
    const run = new Run(meta);
    run.onMetaChange = () => this.#storage.putRun(run.meta);
    run.remote = remoteCas(this.env.CHECKER);
    run.keepAliveMs = routingPolicy({ ...this.env, ...request.routing.vars }).keepaliveIntervalMs;
    this.#run = run;
    this.#batches?.close();
    this.#batches = new BatchWriter(this.#storage, run.meta.run, run.events, run.tokensAt);
    // Written a task after the backend call was made, when the request waits, or by the next write (a failure's): see beginRun.
    this.#storage.beginRun(meta);
    run.opened = this.#open(run, request);
    return run;
  }

  /**
   * Calls a backend through the router (choice, retries before the first byte,
   * capacity, cold-start hold); resolves once one answered, then pumps its
   * stream in the background.
   */
  async #open(run: Run, request: StartRequest): Promise<WireError | null> {
    let upstream: WatchedReader;
    const openedAt = Date.now();
    let chosenAt: number | null = null;
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
        onWaiting: () => {
          this.#written(run);
          run.setWaiting(true);
        },
        onAttempt: (backend) => {
          chosenAt ??= Date.now();
          run.meta.backend = backend.name;
        },
        // A task later: written in this task, the run's first commit (for a new object, making
        // its database) still ran on the isolate's thread before the request had left (half the
        // 3 ms this saves was lost, measured side by side against the simulator).
        onSent: () => void setTimeout(() => this.#written(run), 0),
        waitUntil: (promise) => this.ctx.waitUntil(promise),
      });
      upstream = routed.body;
      run.timedOut = routed.timedOut;
    } catch (err) {
      const wire = toWireError(err);
      // Readers already attached (a streaming client held through a cold start) see the error as an event.
      if (run.waiting) this.#append(run, errorEvent(wire), 0);
      run.setWaiting(false);
      run.end(run.abort.signal.aborted ? "cancelled" : "failed", { code: wire.code, message: wire.message });
      this.#storage.putRun(run.meta);
      this.#scheduleAlarm(run);
      return wire;
    }
    run.setWaiting(false);
    const answeredAt = Date.now();
    this.#openTiming.set(run, { choiceMs: (chosenAt ?? answeredAt) - openedAt, backendMs: answeredAt - (chosenAt ?? answeredAt) });
    this.ctx.waitUntil(this.#pump(run, upstream));
    return null;
  }

  async #pump(run: Run, reader: WatchedReader): Promise<void> {
    const splitter = new SseSplitter();
    const decoder = new TextDecoder();
    const counter = new TokenCounter();
    try {
      for (;;) {
        // Nobody reading a foreground run: hold the backend back until a reader returns or the grace ends.
        await run.untilRead();
        if (run.ended) return;
        const { done, value } = await reader.read();
        if (run.ended) return;
        if (done) return this.#fail(run, "backend stream ended without [DONE]");
        for (const raw of splitter.push(decoder.decode(value, { stream: true }))) {
          // The backend's count of the event's tokens, taken out of the event (streams/token-counter).
          const { event, tokens } = counter.count(raw);
          const kind = classifyEvent(event);
          switch (kind.kind) {
            case "chunk":
              // The stored event carries a finishing choice's final_answer.
              this.#append(run, withFinalAnswers(event, run.events, run.meta.endpoint), tokens, false);
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
    if (run === this.#run) this.#batches?.added(event);
  }

  #fail(run: Run, reason: string): void {
    log("warn", "generation failed", { name: this.#name, run: run.meta.run, reason });
    this.#append(run, FAILED_EVENT, 0);
    this.#finish(run, "failed", { code: "backend_error", message: "The model backend failed while generating." });
  }

  /** Stops a run that is still going: its backend call is aborted (the GPU stops), its readers see the end. */
  #stop(run: Run): void {
    if (run.ended) return;
    run.abort.abort();
    this.#append(run, CANCELLED_EVENT, 0);
    this.#finish(run, "cancelled", { code: CANCELLED_ERROR.code, message: CANCELLED_ERROR.message });
  }

  #finish(run: Run, status: "completed" | "failed" | "cancelled", error: RunMeta["error"] = null): void {
    run.end(status, error);
    if (run === this.#run) this.#batches?.flush();
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
    const vote = ticket.info.vote === true;
    if (!ticket.info.streaming) return run.json((done) => ended(done, done ? run.produced : 0, done ? run.events.length : 0), vote);
    return run.sse(0, ticket.info.includeUsage, ended, run.keepAliveMs, vote);
  }

  /** A client went away: the causing request gets the grace period to come back; a joiner pays for what it got. */
  #left(run: Run, ticket: TicketState, delivered: number, graceMs: number): void {
    if (ticket.role === "generated") {
      if (ticket.attached === 0) this.#graceFor(run, ticket, graceMs);
    } else {
      this.#settle(run, ticket, { status: "client_disconnected", givenTokens: givenTokens(ticket.info.streaming, delivered) });
    }
    this.#checkAbandoned(run, graceMs);
  }

  /** A request that is done with the run (read it to the end, or a background one when it ends). */
  #settleAtEnd(run: Run, ticket: TicketState, delivered = run.produced): void {
    switch (run.meta.status) {
      case "completed":
        return this.#settle(run, ticket, { status: "ok", usage: run.meta.usage, givenTokens: run.produced, givenAll: true });
      case "cancelled":
        // Stopped at once: the request that caused the run pays what it produced, a joiner what it got.
        return this.#settle(run, ticket, { status: "client_disconnected", givenTokens: ticket.role === "generated" ? run.produced : delivered });
      default: // A background request is given what the run stored for it.
        return this.#settle(run, ticket, { status: run.timedOut() ? "timeout" : "backend_error", givenTokens: givenTokens(ticket.info.streaming || ticket.background, delivered) });
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
      this.#settle(run, ticket, {
        status: "client_disconnected",
        usage: run.meta.status === "completed" ? run.meta.usage : null,
        givenTokens: givenTokens(ticket.info.streaming, run.tokensBetween(0, ticket.position)),
        givenAll: ticket.position >= run.events.length,
      });
    }, graceMs + 1);
  }

  /** A foreground run nobody reads any more is cancelled after the grace period (a reconnect within it resumes). */
  #checkAbandoned(run: Run, graceMs: number): void {
    if (run.connections > 0 || run.ended || run.meta.background) return;
    setTimeout(() => {
      if (run.connections === 0 && !run.ended && !run.meta.background) {
        log("info", "generation abandoned: cancelling", { name: this.#name, run: run.meta.run, tokens: run.produced });
        this.#stop(run);
      }
    }, graceMs);
  }

  /** The request's one usage record (accounts/ledger/settlement), sent through its account's object. */
  #settle(run: Run, ticket: TicketState, end: Pick<GenerationEnd, "status" | "givenTokens"> & Partial<GenerationEnd>): void {
    if (ticket.settled) return;
    ticket.settled = true;
    const { info } = ticket;
    const voted = info.vote === true;
    const write = async () => {
      // An Idempotency-Key replay carries the vote: it is computed (once per run) before the answer is kept.
      if (voted && info.idempotencyKey && end.status === "ok") await run.vote();
      const request = settlement(
        { ...info, startedAt: info.admittedAt },
        { usage: null, givenAll: false, ...end, cached: ticket.role !== "generated", backend: run.meta.backend, firstTokenAt: run.firstTokenAt, answer: () => run.answer(voted) },
        Date.now(),
      );
      await settleUsage(this.env, info.accountId, request);
    };
    this.ctx.waitUntil(write());
  }

  #visible(accountId: string, name: string, runNo: number): Run | null {
    this.#name ||= name;
    const run = this.#run;
    if (!run || run.meta.run !== runNo || !run.meta.viewers.includes(accountId)) return null;
    if (run.ended && run.meta.expiresAt !== null && run.meta.expiresAt <= Date.now()) return null;
    return run;
  }

  /** The run begun is written now if it was not, and the object's alarm is set for it. */
  #written(run: Run): void {
    if (run === this.#run && this.#storage.writeBegun()) this.#scheduleAlarm(run);
  }

  #scheduleAlarm(run: Run): void {
    const at = run.ended ? (run.meta.expiresAt ?? Date.now()) : Date.now() + HEARTBEAT_MS;
    void this.ctx.storage.setAlarm(at);
  }
}
