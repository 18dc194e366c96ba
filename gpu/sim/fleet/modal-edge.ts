/**
 * @module fleet/modal-edge
 * Modal's HTTP front for one deployment, as its guide/webhook-timeouts and
 * the vLLM examples describe it. A web function (`@modal.web_server`) holds
 * a request at the edge until a container takes it; a request whose
 * response has not started after 150 s gets a 303 to a result URL, the same
 * URL with `?__modal_function_call_id=fc-...`. The call goes on without its
 * client: a GET of that URL waits up to 150 s again and returns the response
 * (replayed from the start, as Modal keeps it) or another 303; any other
 * method gets 400 `modal-http: bad redirect method`. A client that leaves
 * before its response starts cancels the call; after a 303 nobody can.
 * An `app.server` front queues nothing: 503 when no replica is live.
 */
import type { SimClock } from "./clock";
import type { CancelInput, Deployment, Slot } from "./deployment";

/** The query parameter of Modal's result URL. */
export const CALL_ID_PARAM = "__modal_function_call_id";
/** How long a finished, never-fetched result stays fetchable, in simulated ms (an assumption: Modal does not say). */
const RESULT_RETENTION_MS = 30 * 60_000;
/** Status for a client that left before its response: nobody reads it (nginx's "client closed request"). */
const CLIENT_GONE_STATUS = 499;

/** The vLLM server inside the container that took the input. */
export type ContainerApp = (request: Request, slot: Slot) => Promise<Response>;

/** What the edge counted, for `/sim/stats`. */
export interface EdgeCounters {
  /** 303s sent: to first requests and to followers still waiting. */
  redirects_total: number;
  /** GETs of a result URL. */
  follows_total: number;
  bad_redirect_method_total: number;
  /** app.server answers with no live replica. */
  unavailable_total: number;
  /** Clients that left while held at the edge (their call was cancelled). */
  left_while_held_total: number;
  /** Calls that got a 303 and ran on with nobody attached. */
  detached_total: number;
}

/**
 * One generation call's timeline at this deployment, for fleet experiments
 * to see where a time to first token went (`/sim/calls`). Simulated ms on
 * the deployment's clock; `arrived_unix_ms` (wall) lines a call up with
 * what its client measured.
 */
export interface CallRecord {
  id: string;
  path: string;
  /** The head of the last user message (or prompt): what a client finds its request by. */
  tag: string;
  n: number;
  max_tokens: number | null;
  arrived_unix_ms: number;
  arrived_ms: number;
  /** A container took it (Modal's edge queue ends), and which. */
  dispatched_ms: number | null;
  container: string | null;
  /** The response's first body byte left the container: vLLM queue plus prefill after dispatch. */
  first_byte_ms: number | null;
  /** Its body ended (or broke, or was cancelled): the input's slot is free. */
  ended_ms: number | null;
}

/** Most call records kept (the oldest are dropped first). */
const MAX_CALL_RECORDS = 10_000;
/** Characters of the prompt kept in a record's tag. */
const TAG_CHARS = 80;

/** A response recorded for followers of a detached call. */
interface Recording {
  status: number;
  headers: Headers;
  chunks: Uint8Array[];
  done: boolean;
  error: unknown;
  listeners: Set<() => void>;
}

interface Call {
  id: string;
  url: URL;
  method: string;
  headers: Headers;
  body: string | null;
  app: ContainerApp;
  controller: AbortController;
  cancelQueued: CancelInput | null;
  record: CallRecord | null;
  started: boolean;
  /** A 303 went out: the call runs on unowned, and its response is recorded. */
  detached: boolean;
  /** The original client, while it waits for the response to start. */
  deliver: ((response: Response) => void) | null;
  recording: Recording | null;
  followers: Set<() => void>;
}

export class ModalEdge {
  readonly counters: EdgeCounters = { redirects_total: 0, follows_total: 0, bad_redirect_method_total: 0, unavailable_total: 0, left_while_held_total: 0, detached_total: 0 };
  readonly #deployment: Deployment;
  readonly #clock: SimClock;
  readonly #calls = new Map<string, Call>();
  /** Generation calls' timelines, oldest first (`/sim/calls`). */
  readonly callRecords: CallRecord[] = [];
  #nextCall = 0;

  constructor(deployment: Deployment) {
    this.#deployment = deployment;
    this.#clock = deployment.clock;
  }

  /** Calls held at the edge or in a container without a started response. */
  get held(): number {
    let n = 0;
    for (const call of this.#calls.values()) if (!call.started) n++;
    return n;
  }

  /** One HTTP request through Modal's front; `app` runs once a container takes it. */
  async handle(request: Request, app: ContainerApp): Promise<Response> {
    const url = new URL(request.url);
    const callId = url.searchParams.get(CALL_ID_PARAM);
    if (callId !== null) return this.#follow(request, callId);
    const body = request.method === "GET" || request.method === "HEAD" ? null : await request.text();
    if (this.#deployment.settings.front === "server") return this.#serve(request, body, app);
    const call: Call = {
      id: `fc-${(++this.#nextCall).toString(36).toUpperCase().padStart(26, "0")}`,
      url,
      method: request.method,
      headers: new Headers(request.headers),
      body,
      app,
      controller: new AbortController(),
      cancelQueued: null,
      record: null,
      started: false,
      detached: false,
      deliver: null,
      recording: null,
      followers: new Set(),
    };
    this.#calls.set(call.id, call);
    call.record = this.#record(call);
    const held = this.#awaitStart(call, request.signal);
    call.cancelQueued = this.#deployment.enqueue({ onDispatch: (slot) => void this.#start(call, slot) });
    return held;
  }

  /** app.server: straight to a live replica, or 503. */
  async #serve(request: Request, body: string | null, app: ContainerApp): Promise<Response> {
    const slot = this.#deployment.route();
    if (!slot) {
      this.counters.unavailable_total++;
      // The wording is Modal's edge, not vLLM's; a caller should key on the status alone.
      return new Response("modal-http: no live replica", { status: 503, headers: { "content-type": "text/plain" } });
    }
    const response = await app(new Request(request.url, { method: request.method, headers: request.headers, body, signal: request.signal }), slot);
    return releasing(response, slot);
  }

  /** Holds the original client until the response starts, the 150 s cut, or its own departure. */
  #awaitStart(call: Call, signal: AbortSignal): Promise<Response> {
    return new Promise<Response>((resolve) => {
      let settled = false;
      const settle = (response: Response) => {
        if (settled) return;
        settled = true;
        cancelCut();
        signal.removeEventListener("abort", onAbort);
        call.deliver = null;
        resolve(response);
      };
      const cancelCut = this.#clock.schedule(this.#clock.now() + this.#cutMs(), () => {
        if (settled) return;
        call.detached = true;
        this.counters.detached_total++;
        this.counters.redirects_total++;
        settle(redirect(call));
      });
      const onAbort = () => {
        this.counters.left_while_held_total++;
        if (call.cancelQueued?.()) this.#calls.delete(call.id);
        else call.controller.abort(signal.reason);
        settle(new Response(null, { status: CLIENT_GONE_STATUS }));
      };
      call.deliver = settle;
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** A container took the call: run the app, then hand the response over or record it. */
  async #start(call: Call, slot: Slot): Promise<void> {
    call.cancelQueued = null;
    const timeline = call.record;
    if (timeline) {
      timeline.dispatched_ms = this.#clock.now();
      timeline.container = slot.container.id;
    }
    const request = new Request(call.url, { method: call.method, headers: call.headers, body: call.body, signal: call.controller.signal });
    let response: Response;
    try {
      response = await call.app(request, slot);
    } catch {
      response = new Response("modal-http: internal error", { status: 500 });
    }
    call.started = true;
    if (call.deliver) {
      this.#calls.delete(call.id);
      const onByte = timeline ? () => (timeline.first_byte_ms ??= this.#clock.now()) : undefined;
      const onEnd = timeline ? () => (timeline.ended_ms ??= this.#clock.now()) : undefined;
      call.deliver(releasing(response, slot, onByte, onEnd));
      return;
    }
    if (!call.detached) {
      // The client left while the container worked: nobody will read this.
      this.#calls.delete(call.id);
      slot.release();
      await response.body?.cancel().catch(() => {});
      return;
    }
    call.recording = record(response, () => {
      slot.release();
      this.#clock.schedule(this.#clock.now() + RESULT_RETENTION_MS, () => this.#calls.delete(call.id));
    });
    for (const wake of call.followers) wake();
    call.followers.clear();
  }

  /** A GET of the result URL: the recorded response, or another 303 after 150 s more. */
  #follow(request: Request, id: string): Promise<Response> | Response {
    if (request.method !== "GET") {
      this.counters.bad_redirect_method_total++;
      return new Response("modal-http: bad redirect method", { status: 400, headers: { "content-type": "text/plain" } });
    }
    const call = this.#calls.get(id);
    // The wording is an assumption; Modal does not document an unknown call id.
    if (!call || !call.detached) return new Response("modal-http: function call not found", { status: 404, headers: { "content-type": "text/plain" } });
    this.counters.follows_total++;
    if (call.recording) return replay(call.recording);
    return new Promise<Response>((resolve) => {
      const wake = () => {
        cancelCut();
        request.signal.removeEventListener("abort", onAbort);
        resolve(replay(call.recording as Recording));
      };
      const cancelCut = this.#clock.schedule(this.#clock.now() + this.#cutMs(), () => {
        call.followers.delete(wake);
        request.signal.removeEventListener("abort", onAbort);
        this.counters.redirects_total++;
        resolve(redirect(call));
      });
      const onAbort = () => {
        call.followers.delete(wake);
        cancelCut();
        resolve(new Response(null, { status: CLIENT_GONE_STATUS }));
      };
      call.followers.add(wake);
      request.signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** A timeline for a generation call (a POST with a JSON body), null for anything else. */
  #record(call: Call): CallRecord | null {
    if (call.method !== "POST" || call.body === null) return null;
    let parsed: { n?: unknown; max_tokens?: unknown; messages?: unknown; prompt?: unknown };
    try {
      parsed = JSON.parse(call.body) as typeof parsed;
    } catch {
      return null;
    }
    const messages = Array.isArray(parsed.messages) ? (parsed.messages as { role?: unknown; content?: unknown }[]) : [];
    const lastUser = messages.filter((m) => m?.role === "user").at(-1)?.content;
    const text = typeof lastUser === "string" ? lastUser : typeof parsed.prompt === "string" ? parsed.prompt : "";
    const entry: CallRecord = {
      id: call.id,
      path: call.url.pathname,
      tag: text.slice(0, TAG_CHARS),
      n: typeof parsed.n === "number" ? parsed.n : 1,
      max_tokens: typeof parsed.max_tokens === "number" ? parsed.max_tokens : null,
      arrived_unix_ms: Date.now(),
      arrived_ms: this.#clock.now(),
      dispatched_ms: null,
      container: null,
      first_byte_ms: null,
      ended_ms: null,
    };
    this.callRecords.push(entry);
    if (this.callRecords.length > MAX_CALL_RECORDS) this.callRecords.shift();
    return entry;
  }

  #cutMs(): number {
    return this.#deployment.settings.requestCutSeconds * 1000;
  }
}

/** Modal's 303: the original URL with the call id, an absolute Location. */
function redirect(call: Call): Response {
  const location = new URL(call.url);
  location.searchParams.set(CALL_ID_PARAM, call.id);
  return new Response(null, { status: 303, headers: { location: location.href } });
}

/**
 * The response with its body passed through; the slot is released when the
 * body ends, breaks or is cancelled. The first read starts at once: vLLM
 * starts generating when it accepts a request, not when a byte is read.
 */
function releasing(response: Response, slot: Slot, onFirstByte?: () => void, onEnd?: () => void): Response {
  const source = response.body;
  const release = () => {
    onEnd?.();
    slot.release();
  };
  if (!source) {
    release();
    return response;
  }
  const reader = source.getReader();
  let primed: Promise<ReadableStreamReadResult<Uint8Array>> | null = reader.read();
  primed.catch(() => {});
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = primed ?? reader.read();
          primed = null;
          const { done, value } = await next;
          if (done) {
            controller.close();
            release();
          } else {
            onFirstByte?.();
            controller.enqueue(value);
          }
        } catch (err) {
          release();
          controller.error(err);
        }
      },
      cancel(reason) {
        release();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** Reads a response to its end into memory, so any number of followers can replay it. */
function record(response: Response, onEnd: () => void): Recording {
  const rec: Recording = { status: response.status, headers: new Headers(response.headers), chunks: [], done: false, error: null, listeners: new Set() };
  const notify = () => {
    for (const listener of rec.listeners) listener();
  };
  void (async () => {
    try {
      const reader = response.body?.getReader();
      for (;;) {
        const next = await reader?.read();
        if (!next || next.done) break;
        rec.chunks.push(next.value);
        notify();
      }
    } catch (err) {
      rec.error = err ?? new Error("stream broke");
    }
    rec.done = true;
    notify();
    onEnd();
  })();
  return rec;
}

/** A fresh response that plays a recording from its first byte, live while it is still being recorded. */
function replay(rec: Recording): Response {
  let index = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const chunk = rec.chunks[index];
          if (chunk) {
            index++;
            controller.enqueue(chunk);
            return;
          }
          if (rec.done) {
            if (rec.error) controller.error(rec.error);
            else controller.close();
            return;
          }
          await new Promise<void>((resolve) => {
            const wake = () => {
              rec.listeners.delete(wake);
              resolve();
            };
            rec.listeners.add(wake);
          });
        }
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: rec.status, headers: rec.headers });
}
