/**
 * @module instance
 * One simulated GPU server: its config, its counters and its queue. Tests
 * each get their own (`/i/<id>/...`), so counters and failure modes never
 * leak between them. Accounting is idempotent: a generation ends exactly
 * once, however many of cancel, abort and the engine report it. In fleet
 * mode (a GPU profile set) the instance also owns its modelled Modal
 * deployment, and `forContainer` gives the view a request runs through once
 * a container has taken it.
 */
import { applyConfigPatch, type SimConfig, type SimConfigPatch } from "./config";
import type { Container } from "./fleet/deployment";
import { touchesFleet } from "./fleet/fleet-config";
import type { Fleet, FleetStats } from "./fleet/fleet";

/** How a generation ended. */
export type Outcome = "completed" | "aborted" | "errored";

/** An accepted generation request, from acceptance to its end. */
export interface Generation {
  readonly model: string;
  readonly promptTokens: number;
  /** Content tokens sent so far, over all choices. */
  generated: number;
  state: "waiting" | "running" | "done";
}

/** What the last generation request looked like, for tests of the caller. */
export interface LastRequest {
  path: string;
  /** The parsed JSON body; null when it was not JSON or too big to keep. */
  body: unknown;
  body_chars: number;
  /** Header names only: values may be credentials. */
  header_names: string[];
}

/** `GET /sim/stats`. */
export interface SimStats {
  /** Every POST to a generation endpoint, refused ones included. */
  requests_total: number;
  /** Refused before generation: cold start, fail_status, auth, bad request, unknown model. */
  rejected_total: number;
  /** Accepted and not yet ended: running plus waiting. */
  in_flight: number;
  running: number;
  waiting: number;
  /** Sent their end (`[DONE]`, or the whole JSON). */
  completed_total: number;
  /** The client went away first. */
  aborted_total: number;
  /** Ended by a simulated failure (drop_after_tokens, error_after_tokens). */
  errored_total: number;
  /** Content tokens actually sent. */
  tokens_generated_total: number;
  prompt_tokens_total: number;
  /** Most generation requests accepted at once (running plus waiting). */
  max_in_flight_seen: number;
  /** Most generation requests running at once (at most max_concurrent). */
  max_running_seen: number;
  last_request: LastRequest | null;
  /** Oracle mode: choices that ended in the reference answer (boxed, sent whole). */
  oracle_correct: number;
  /** Oracle mode: choices that ended in a wrong answer (boxed, sent whole). */
  oracle_wrong: number;
  /** The modelled Modal deployment (profile set): containers, edge queue, totals; null otherwise. */
  fleet: FleetStats | null;
}

type Counters = Omit<SimStats, "in_flight" | "running" | "waiting" | "fleet">;

const zeroCounters = (): Counters => ({
  requests_total: 0,
  rejected_total: 0,
  completed_total: 0,
  aborted_total: 0,
  errored_total: 0,
  tokens_generated_total: 0,
  prompt_tokens_total: 0,
  max_in_flight_seen: 0,
  max_running_seen: 0,
  last_request: null,
  oracle_correct: 0,
  oracle_wrong: 0,
});

/** State an instance shares with the per-container views of it (`forContainer`). */
interface SharedState {
  config: SimConfig;
  counters: Counters;
  coldStartBeganAt: number | null;
  lastUsedAt: number;
  /** The modelled Modal deployment, built on first use when `profile` is set. */
  fleet: Fleet | null;
  readonly active: Set<Generation>;
  readonly queue: { gen: Generation; admit: () => void }[];
}

export class SimInstance {
  /**
   * The container this view of the instance runs in (fleet mode), or null.
   * Generations accepted through the view run on that container's engine.
   */
  readonly container: Container | null;
  readonly #defaults: SimConfig;
  readonly #state: SharedState;

  constructor(defaults: SimConfig, shared?: SharedState, container: Container | null = null) {
    this.#defaults = defaults;
    this.#state = shared ?? {
      config: defaults,
      counters: zeroCounters(),
      coldStartBeganAt: null,
      lastUsedAt: Date.now(),
      fleet: null,
      active: new Set(),
      queue: [],
    };
    this.container = container;
  }

  get config(): SimConfig {
    return this.#state.config;
  }

  set config(value: SimConfig) {
    this.#state.config = value;
  }

  get counters(): Counters {
    return this.#state.counters;
  }

  /** When the cold-start clock began: the first non-/sim request after (re)configuration. */
  get coldStartBeganAt(): number | null {
    return this.#state.coldStartBeganAt;
  }

  /** Last time anything touched this instance, for evicting idle ones. */
  get lastUsedAt(): number {
    return this.#state.lastUsedAt;
  }

  set lastUsedAt(value: number) {
    this.#state.lastUsedAt = value;
  }

  /** The modelled deployment, or null (simple pacing, or not built yet). */
  get fleet(): Fleet | null {
    return this.#state.fleet;
  }

  set fleet(value: Fleet | null) {
    this.#state.fleet = value;
  }

  /** A view of this instance bound to one container: same config, counters and generations. */
  forContainer(container: Container): SimInstance {
    return new SimInstance(this.#defaults, this.#state, container);
  }

  /** Applies a validated patch; a new cold_start_ms restarts the cold-start clock, a fleet knob rebuilds the fleet. */
  configure(patch: SimConfigPatch): SimConfig {
    this.config = applyConfigPatch(this.config, patch, this.#defaults);
    if (patch.cold_start_ms !== undefined) this.#state.coldStartBeganAt = null;
    if (touchesFleet(patch)) this.#state.fleet = null;
    this.#pump();
    return this.config;
  }

  /** Back to defaults with zeroed counters and no fleet; generations in flight keep running. */
  reset(): void {
    this.config = this.#defaults;
    this.#state.counters = zeroCounters();
    this.#state.coldStartBeganAt = null;
    this.#state.fleet = null;
    this.#pump();
  }

  /** True while the simulated container is still booting. */
  isCold(now: number): boolean {
    if (this.config.cold_start_ms <= 0) return false;
    this.#state.coldStartBeganAt ??= now;
    return now - this.#state.coldStartBeganAt < this.config.cold_start_ms;
  }

  /** Registers an accepted generation request (waiting until it gets a slot). */
  accept(model: string, promptTokens: number): Generation {
    const gen: Generation = { model, promptTokens, generated: 0, state: "waiting" };
    this.#state.active.add(gen);
    this.counters.prompt_tokens_total += promptTokens;
    this.counters.max_in_flight_seen = Math.max(this.counters.max_in_flight_seen, this.#state.active.size);
    return gen;
  }

  /** Waits FIFO for a slot under max_concurrent; rejects if `signal` aborts first. */
  acquireSlot(gen: Generation, signal: AbortSignal): Promise<void> {
    if (gen.state !== "waiting") return Promise.resolve();
    signal.throwIfAborted();
    const queue = this.#state.queue;
    if (queue.length === 0 && this.#hasRoom()) {
      this.#run(gen);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = queue.findIndex((q) => q.gen === gen);
        if (i !== -1) queue.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      queue.push({
        gen,
        admit: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
      });
    });
  }

  /** Marks a generation running without a slot: a hung request is stuck in the engine, a fleet one is at its container. */
  markHung(gen: Generation): void {
    if (gen.state === "waiting") this.#run(gen);
  }

  /** Counts content tokens as they are sent. */
  recordTokens(gen: Generation, count: number): void {
    gen.generated += count;
    this.counters.tokens_generated_total += count;
  }

  /** Ends a generation once; later calls are ignored. */
  finish(gen: Generation, outcome: Outcome): void {
    if (gen.state === "done") return;
    if (gen.state === "waiting") {
      const i = this.#state.queue.findIndex((q) => q.gen === gen);
      if (i !== -1) this.#state.queue.splice(i, 1);
    }
    gen.state = "done";
    this.#state.active.delete(gen);
    this.counters[`${outcome}_total`]++;
    this.#pump();
  }

  /** Live generations, for /metrics. */
  get active(): ReadonlySet<Generation> {
    return this.#state.active;
  }

  stats(): SimStats {
    const running = this.#runningCount();
    const active = this.#state.active.size;
    return { ...this.counters, in_flight: active, running, waiting: active - running, fleet: this.#state.fleet?.stats() ?? null };
  }

  #runningCount(): number {
    let n = 0;
    for (const g of this.#state.active) if (g.state === "running") n++;
    return n;
  }

  #hasRoom(): boolean {
    const limit = this.config.max_concurrent;
    return limit === null || this.#runningCount() < limit;
  }

  #run(gen: Generation): void {
    gen.state = "running";
    this.counters.max_running_seen = Math.max(this.counters.max_running_seen, this.#runningCount());
  }

  /** Admits waiters, oldest first, while there is room (after a finish or a raised limit). */
  #pump(): void {
    const queue = this.#state.queue;
    while (queue.length > 0 && this.#hasRoom()) {
      const next = queue.shift();
      if (!next) break;
      this.#run(next.gen);
      next.admit();
    }
  }
}
