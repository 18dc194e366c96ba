/**
 * @module generation-run
 * One run of a generation, in memory: the events the backend sent (numbered
 * from 1: the SSE `id:`), a running count of content tokens, and the
 * subscriptions that read them. The backend is read as fast as it sends,
 * independently of any client; each subscription reads at its own pace from
 * the shared event list, so one slow phone never holds the others back.
 */
import { errorBody } from "../../shared/errors";
import { GENERATION_RETENTION_SECONDS, type CacheVerdict, type GenerationObject, type GenerationStatus } from "../../shared/generations";
import type { VoteObject } from "../../shared/answers";
import type { Usage } from "../../shared/openai";
import { SSE_DONE, sseComment, sseData, sseEvent } from "../../shared/sse";
import { CompletionAssembler, type AnsweredCompletion } from "../streams/completion-assembler";
import { voteChunk, voteOf } from "./voting";
import type { RemoteVote } from "../answers/vote";
import { classifyEvent } from "../streams/stream-events";
import type { JsonOutcome, RequestTicket, StartRequest, WireError } from "./generation-rpc";
import type { Endpoint } from "./prepare";

/** What is stored about a run besides its events. */
export interface RunMeta {
  run: number;
  status: GenerationStatus;
  model: string;
  endpoint: Endpoint;
  background: boolean;
  cacheable: boolean;
  backend: string;
  createdAt: number;
  completedAt: number | null;
  /** Unix ms after which the run is forgotten (set when it ends). */
  expiresAt: number | null;
  retainMs: number;
  /** Accounts that may see it: the creator's, and with a shared cache each account that joined. */
  viewers: string[];
  error: { code: string; message: string } | null;
  usage: Usage | null;
  /** A request asked for `vote` (any later reader of the run may see it: resumes, the generation object). */
  voted?: boolean;
  /** The vote over the choices' final answers, once computed (computed once per run, on first need). */
  vote?: VoteObject | null;
}

export const TERMINAL: ReadonlySet<GenerationStatus> = new Set(["completed", "failed", "cancelled"]);

/** A request the run answers, and how far its billing got. */
export interface TicketState {
  info: RequestTicket;
  role: "generated" | "coalesced" | "hit";
  /** Live subscriptions of this request (its own, plus resumes by its account while unsettled). */
  attached: number;
  settled: boolean;
  background: boolean;
  /** Events delivered to this request's own connections, as a position: what it was given. */
  position: number;
  /** Waiting for the backend to answer (before any stream exists), counted as attached. */
  pendingOpen: boolean;
}

/** How long a finished uncached generation stays readable, in ms. */
const GENERATION_RETENTION_MS = GENERATION_RETENTION_SECONDS * 1000;

/** The metadata of run number `run`, started now for `request`. */
export function newRunMeta(request: StartRequest, run: number, now: number): RunMeta {
  return {
    run,
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
}

/** A request that `start` took in, counted as attached while the backend is being opened. */
export function newTicket(request: StartRequest, verdict: CacheVerdict): TicketState {
  return {
    info: request.ticket,
    role: verdict === "MISS" ? "generated" : verdict === "HIT" ? "hit" : "coalesced",
    attached: 1,
    settled: false,
    background: request.background,
    position: 0,
    pendingOpen: true,
  };
}

/** A run's stored events and, position for position, the completion tokens each carried (generation-storage). */
export interface StoredEvents {
  events: string[];
  tokens: number[];
}

const encoder = new TextEncoder();

export class Run {
  readonly meta: RunMeta;
  /** Raw events (`data: …`), without ids or the blank line. */
  readonly events: string[] = [];
  /** Content tokens in events[0..i]. */
  readonly tokensAt: number[] = [];
  readonly tickets = new Map<string, TicketState>();
  readonly abort = new AbortController();
  #connections = 0;
  /** Settles once the backend answered (null) or failed to (the error). */
  opened: Promise<WireError | null> = Promise.resolve(null);
  firstTokenAt: number | null = null;
  /** True once the router's watchdog cut the backend for a first-token or silence timeout. */
  timedOut: () => boolean = () => false;
  /** The router is waiting for a backend (cold, held, retrying): readers get keep-alive comments. */
  waiting = false;
  /** When the run began (Unix ms): a held reader's first keep-alive is due KEEPALIVE_INTERVAL_MS after it. */
  readonly begunAt = Date.now();
  /** Interval of those comments, in ms. */
  keepAliveMs = KEEPALIVE_DEFAULT_MS;
  /** Resolves when the run starts waiting for a cold backend (streaming requests answer at once then). */
  readonly waitingStarted: Promise<void>;
  #markWaitingStarted!: () => void;
  #waiters: (() => void)[] = [];
  #body: AnsweredCompletion | null | undefined;
  #vote: Promise<VoteObject | null> | null = null;
  /** Where a vote that needs the CAS is taken (the checker Worker; the object sets it): null leaves those comparisons unmerged. */
  remote: RemoteVote | null = null;
  /** Called when the metadata changed outside `end` (a vote was computed): the object stores it. */
  onMetaChange: () => void = () => {};

  constructor(meta: RunMeta) {
    this.meta = meta;
    this.waitingStarted = new Promise((resolve) => (this.#markWaitingStarted = resolve));
  }

  /** A stored run with its events, token counts and usage chunk's position rebuilt (after a restart). */
  static restore(meta: RunMeta, stored: StoredEvents): Run {
    const run = new Run(meta);
    let total = 0;
    stored.events.forEach((event, i) => {
      if (classifyEvent(event).kind === "usage") run.usageIndex = i;
      total += stored.tokens[i] ?? 0;
      run.events.push(event);
      run.tokensAt.push(total);
    });
    return run;
  }

  /** Live subscriptions of any kind: while there is one, a foreground run goes on. */
  get connections(): number {
    return this.#connections;
  }

  set connections(n: number) {
    const woke = this.#connections === 0 && n > 0;
    this.#connections = n;
    if (woke) this.wake();
  }

  /**
   * Resolves once someone reads this run (or it ended, or it runs in the
   * background). While a foreground run has no reader, its backend is not read:
   * the backend is held back, and the grace period decides whether it goes on.
   */
  async untilRead(): Promise<void> {
    while (this.connections === 0 && !this.ended && !this.meta.background) await this.#next();
  }

  /** The router is holding the request for a cold backend (true) or got one (false). */
  setWaiting(waiting: boolean): void {
    this.waiting = waiting;
    if (waiting) this.#markWaitingStarted();
    this.wake();
  }

  get ended(): boolean {
    return TERMINAL.has(this.meta.status);
  }

  get produced(): number {
    return this.tokensAt.at(-1) ?? 0;
  }

  /** Adds an event as the backend sent it, with the content tokens it carried; `wake: false` leaves `wake()` to the caller. */
  append(event: string, tokens: number, wake = true): void {
    this.events.push(event);
    this.tokensAt.push(this.produced + tokens);
    if (tokens > 0) this.firstTokenAt ??= Date.now();
    if (wake) this.wake();
  }

  /** Marks the run ended (its last event already appended). */
  end(status: GenerationStatus, error: RunMeta["error"] = null, now = Date.now()): void {
    if (this.ended) return;
    this.meta.status = status;
    this.meta.error = error;
    this.meta.completedAt = now;
    this.meta.expiresAt = now + this.meta.retainMs;
    this.wake();
  }

  /** The whole answer (chat.completion or text_completion) once completed; assembled once. */
  body(): AnsweredCompletion | null {
    if (this.meta.status !== "completed") return null;
    if (this.#body !== undefined) return this.#body;
    const assembler = new CompletionAssembler(this.meta.endpoint);
    for (const event of this.events) {
      const kind = classifyEvent(event);
      if (kind.kind === "usage") assembler.usage = kind.usage;
      else if (kind.kind === "chunk") assembler.addChunk(sseData(event) ?? "{}");
    }
    return (this.#body = assembler.build());
  }

  /**
   * The vote over the choices' final answers (worker/answers/vote), computed
   * once per run and kept in its metadata; null unless the run completed.
   */
  vote(): Promise<VoteObject | null> {
    if (this.meta.vote !== undefined) return Promise.resolve(this.meta.vote);
    const body = this.body();
    if (!body) return Promise.resolve(null);
    return (this.#vote ??= voteOf(body, this.remote).then((vote) => {
      this.meta.vote = vote;
      this.onMetaChange();
      return vote;
    }));
  }

  /** The answer with its vote when `voted` (the vote computed already: see `vote`). */
  answer(voted: boolean): AnsweredCompletion | null {
    const body = this.body();
    if (!body || !voted || !this.meta.vote) return body;
    return { ...body, vote: this.meta.vote };
  }

  /** The stream event that carries the vote (voting `voteChunk`), or null without one. */
  async voteEvent(): Promise<string | null> {
    const vote = await this.vote();
    const body = this.body();
    return body && vote ? `data: ${JSON.stringify(voteChunk(body, vote))}` : null;
  }

  /** The `generation` object `GET /v1/generations/{id}` answers with. */
  describe(id: string): GenerationObject {
    const { meta } = this;
    const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
    return {
      id,
      object: "generation",
      status: meta.status,
      created_at: Math.floor(meta.createdAt / 1000),
      completed_at: seconds(meta.completedAt),
      expires_at: seconds(meta.expiresAt),
      model: meta.model,
      result: this.answer(meta.vote != null),
      error: meta.error,
    };
  }

  /** Tokens between two event positions (end exclusive). */
  tokensBetween(from: number, to: number): number {
    if (to <= from) return 0;
    return (this.tokensAt[to - 1] ?? 0) - (from > 0 ? (this.tokensAt[from - 1] ?? 0) : 0);
  }

  /** Wakes every reader waiting for events (appends, the end and the waiting state do it themselves). */
  wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #next(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * The run's events after `from` as SSE with `id:` lines, as the subscriber
   * reads them (pull-based: nothing is queued for a client that does not read).
   * `onEnd` is called once: `done` when the last event was read, else the
   * client went away; `delivered` counts the content tokens it was given.
   */
  sse(
    from: number,
    includeUsage: boolean,
    onEnd: (done: boolean, delivered: number, position: number) => void,
    keepAliveMs = KEEPALIVE_DEFAULT_MS,
    includeVote = false,
  ): ReadableStream<Uint8Array> {
    let next = from;
    let finished = false;
    /** When this reader was last sent anything (the run's start before): keep-alives keep to the interval from it. */
    let sentAt = this.begunAt;
    let voteSent = !includeVote;
    const finish = (done: boolean) => {
      if (finished) return;
      finished = true;
      onEnd(done, this.tokensBetween(from, next), next);
    };
    return new ReadableStream<Uint8Array>(
      {
        // Loops until it enqueues or closes: with a high-water mark of 0 a pull
        // that enqueues nothing (say, only the usage chunk this reader skips) is never called again.
        pull: async (controller) => {
          for (;;) {
            while (next >= this.events.length && !this.ended) {
              if (!this.waiting) {
                await this.#next();
                continue;
              }
              // Waiting for a backend: a comment now and then keeps proxies (and people) patient. The
              // first is due an interval after the request began, however late the waiting was noticed.
              if (await this.#nextOrTimeout(Math.max(0, sentAt + keepAliveMs - Date.now()))) continue;
              if (finished) return;
              if (this.waiting && next >= this.events.length) {
                sentAt = Date.now();
                controller.enqueue(encoder.encode(KEEPALIVE_COMMENT));
                return;
              }
            }
            if (finished) return;
            if (next >= this.events.length) {
              controller.close();
              finish(true);
              return;
            }
            let out = "";
            for (; next < this.events.length; next++) {
              const event = this.events[next]!;
              if (!includeUsage && next === this.usageIndex) continue;
              // The vote goes last before [DONE], without an id: a resume from the usage chunk gets it again.
              if (!voteSent && event === DONE_EVENT) {
                voteSent = true;
                const vote = await this.voteEvent();
                if (finished) return;
                if (vote) out += `${vote}\n\n`;
              }
              out += `id: ${next + 1}\n${event}\n\n`;
            }
            if (out) {
              sentAt = Date.now();
              controller.enqueue(encoder.encode(out));
            }
            if (this.ended && next >= this.events.length) {
              controller.close();
              finish(true);
              return;
            }
            if (out) return;
          }
        },
        cancel: () => finish(false),
      },
      { highWaterMark: 0 },
    );
  }

  /** True if the run changed (new event, end, waiting state) within `ms`, false on timeout. */
  #nextOrTimeout(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** One JSON text (a JsonOutcome) when the run ends: for clients that did not ask to stream. */
  json(onEnd: (done: boolean) => void, includeVote = false): ReadableStream<Uint8Array> {
    let finished = false;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          while (!this.ended) await this.#next();
          if (finished) return;
          finished = true;
          if (includeVote) await this.vote();
          const body = this.answer(includeVote);
          const outcome: JsonOutcome = body ? { ok: true, body } : { ok: false, error: this.wireError() };
          controller.enqueue(encoder.encode(JSON.stringify(outcome)));
          controller.close();
          onEnd(true);
        },
        cancel: () => {
          if (finished) return;
          finished = true;
          onEnd(false);
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Index of the usage chunk, which only clients that asked for it see. */
  usageIndex = -1;

  /** The error a JSON client gets when the run did not complete. */
  wireError(): WireError {
    if (this.meta.status === "cancelled") return CANCELLED_ERROR;
    return {
      code: "backend_error",
      message: "The model backend failed to answer. Please retry shortly.",
      param: null,
      headers: { "retry-after": "5" },
    };
  }
}

/** An error as the event a stream's readers see: OpenAI's envelope, as vLLM sends errors mid-stream. */
export function errorEvent(error: Pick<WireError, "code" | "message" | "param">): string {
  return sseEvent(JSON.stringify(errorBody(error.code, error.message, error.param))).trimEnd();
}

/** How a cancelled run ends, for every reader: one code (`generation_cancelled`), in the JSON answer and as the stream's last event. */
export const CANCELLED_ERROR: WireError = { code: "generation_cancelled", message: "The generation was cancelled before it completed.", param: null, headers: {} };
export const CANCELLED_EVENT = errorEvent(CANCELLED_ERROR);

export const DONE_EVENT = `data: ${SSE_DONE}`;

/** What a streaming reader sees while every backend is cold. */
export const KEEPALIVE_COMMENT = sseComment("waiting for a GPU backend to start");
/** Keep-alive interval when the deployment sets none, in ms. */
const KEEPALIVE_DEFAULT_MS = 10_000;
