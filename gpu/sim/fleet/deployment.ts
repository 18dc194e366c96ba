/**
 * @module fleet/deployment
 * One Modal URL: a pool of containers, each running a `VllmEngine`, and
 * Modal's edge queue in front. As Modal documents it (guide/scale,
 * reference/modal.concurrent): the autoscaler keeps
 * ceil(demand / target_inputs) containers between min_containers and
 * max_containers, a new one takes `bootSeconds` to serve, an idle one
 * stops after the scale-down window (to zero when min_containers is 0).
 * Containers pull inputs: an input goes to a random warm container below
 * target_inputs, else (a burst) below max_inputs, else it waits at the edge,
 * where vLLM's metrics cannot see it. A warm container can be lost
 * (preempted) at random or on demand, which kills everything on it.
 * No HTTP here (modal-edge.ts); everything runs on the injected clock.
 */
import { createRng, type Rng } from "../prng";
import type { CancelTimer, SimClock } from "./clock";
import type { DeploymentSettings } from "./fleet-config";
import { VllmEngine } from "./vllm-engine";

export type ContainerState = "booting" | "warm" | "stopped" | "lost";

/** A container taking an input, until the input's response ends. */
export interface Slot {
  readonly container: Container;
  /** Gives the input slot back; safe to call more than once. */
  release(): void;
}

export class Container {
  state: ContainerState = "booting";
  inputs = 0;
  readonly engine: VllmEngine;
  readonly startedAtMs: number;
  warmAtMs: number | null = null;
  endedAtMs: number | null = null;
  idleTimer: CancelTimer | null = null;
  lossTimer: CancelTimer | null = null;

  constructor(
    readonly id: string,
    engine: VllmEngine,
    startedAtMs: number,
  ) {
    this.engine = engine;
    this.startedAtMs = startedAtMs;
  }

  get live(): boolean {
    return this.state === "booting" || this.state === "warm";
  }
}

/** An input waiting at the edge for a container. */
export interface EdgeInput {
  /** Called once, when a container takes the input. */
  onDispatch(slot: Slot): void;
}

/** Removes a queued input from the edge queue; false when it was already dispatched. */
export type CancelInput = () => boolean;

/** `/sim/stats` for one container. */
export interface ContainerStats {
  id: string;
  state: ContainerState;
  inputs: number;
  running: number;
  waiting: number;
  kv_cache_usage: number;
  /** Simulated seconds the engine spent in steps. */
  busy_seconds: number;
  /** Simulated seconds since the container started booting (billed, boot included). */
  up_seconds: number;
  preemptions: number;
  generation_tokens: number;
}

/** Totals over the deployment's life, stopped and lost containers included. */
export interface DeploymentTotals {
  cold_starts_total: number;
  scale_downs_total: number;
  container_losses_total: number;
  edge_queued_total: number;
  edge_wait_seconds_total: number;
  edge_wait_seconds_max: number;
  no_live_replica_total: number;
  container_seconds_total: number;
  gpu_busy_seconds_total: number;
  preemptions_total: number;
  prompt_tokens_total: number;
  generation_tokens_total: number;
  recomputed_tokens_total: number;
}

interface Queued {
  input: EdgeInput;
  atMs: number;
}

export class Deployment {
  readonly settings: DeploymentSettings;
  readonly clock: SimClock;
  readonly #containers: Container[] = [];
  readonly #queue: Queued[] = [];
  readonly #rng: Rng;
  #nextId = 0;
  #rebalancing = false;
  #rebalanceAgain = false;
  /** Counters of containers that ended, added up when they end. */
  readonly #ended = { containerMs: 0, busyMs: 0, preemptions: 0, promptTokens: 0, generationTokens: 0, recomputedTokens: 0 };
  readonly #totals = { coldStarts: 0, scaleDowns: 0, losses: 0, edgeQueued: 0, edgeWaitMs: 0, edgeWaitMaxMs: 0, noLiveReplica: 0 };

  constructor(settings: DeploymentSettings, clock: SimClock) {
    this.settings = settings;
    this.clock = clock;
    this.#rng = createRng(settings.seed);
    // min_containers are kept warm: as if the app had been deployed long ago.
    for (let i = 0; i < settings.minContainers; i++) this.#warm(this.#newContainer());
  }

  /** Containers booting or warm, oldest first. */
  get containers(): readonly Container[] {
    return this.#containers.filter((c) => c.live);
  }

  get queueLength(): number {
    return this.#queue.length;
  }

  /** Queues an input at the edge (web function): dispatched as soon as a container has room. */
  enqueue(input: EdgeInput): CancelInput {
    const entry: Queued = { input, atMs: this.clock.now() };
    this.#queue.push(entry);
    this.#totals.edgeQueued++;
    this.#rebalance();
    return () => {
      const i = this.#queue.indexOf(entry);
      if (i === -1) return false;
      this.#queue.splice(i, 1);
      this.#rebalance();
      return true;
    };
  }

  /** An app.server route: a live replica at once (no edge queue, no max), or null for a 503. */
  route(): Slot | null {
    const warm = this.#containers.filter((c) => c.state === "warm");
    if (warm.length === 0) {
      this.#totals.noLiveReplica++;
      // The refused request still tells the autoscaler there is demand.
      if (!this.#containers.some((c) => c.live)) this.#boot();
      return null;
    }
    const below = warm.filter((c) => c.inputs < this.settings.targetInputs);
    const slot = this.#take(this.#rng.pick(below.length > 0 ? below : warm));
    this.#rebalance();
    return slot;
  }

  /** Loses a warm container now (`id`, or the one with the most inputs): everything on it dies. */
  loseContainer(id?: string): Container | null {
    const warm = this.#containers.filter((c) => c.state === "warm");
    const victim = id === undefined ? warm.reduce<Container | null>((a, c) => (a === null || c.inputs > a.inputs ? c : a), null) : (warm.find((c) => c.id === id) ?? null);
    if (!victim) return null;
    this.#totals.losses++;
    this.#end(victim, "lost");
    this.#rebalance();
    return victim;
  }

  /** Per-container stats, live containers first in boot order. */
  containerStats(): ContainerStats[] {
    const now = this.clock.now();
    return this.containers.map((c) => {
      const g = c.engine.gauges();
      return {
        id: c.id,
        state: c.state,
        inputs: c.inputs,
        running: g.running,
        waiting: g.waiting,
        kv_cache_usage: g.kvUsage,
        busy_seconds: c.engine.counters.busyMs / 1000,
        up_seconds: (now - c.startedAtMs) / 1000,
        preemptions: c.engine.counters.preemptions,
        generation_tokens: c.engine.counters.generationTokens,
      };
    });
  }

  totals(): DeploymentTotals {
    const now = this.clock.now();
    const live = this.containers;
    const sum = (f: (c: Container) => number) => live.reduce((s, c) => s + f(c), 0);
    const e = this.#ended;
    const t = this.#totals;
    return {
      cold_starts_total: t.coldStarts,
      scale_downs_total: t.scaleDowns,
      container_losses_total: t.losses,
      edge_queued_total: t.edgeQueued,
      edge_wait_seconds_total: t.edgeWaitMs / 1000,
      edge_wait_seconds_max: t.edgeWaitMaxMs / 1000,
      no_live_replica_total: t.noLiveReplica,
      container_seconds_total: (e.containerMs + sum((c) => now - c.startedAtMs)) / 1000,
      gpu_busy_seconds_total: (e.busyMs + sum((c) => c.engine.counters.busyMs)) / 1000,
      preemptions_total: e.preemptions + sum((c) => c.engine.counters.preemptions),
      prompt_tokens_total: e.promptTokens + sum((c) => c.engine.counters.promptTokens),
      generation_tokens_total: e.generationTokens + sum((c) => c.engine.counters.generationTokens),
      recomputed_tokens_total: e.recomputedTokens + sum((c) => c.engine.counters.recomputedTokens),
    };
  }

  #newContainer(): Container {
    const { profile, maxNumSeqs, gpuMemoryUtilization } = this.settings;
    const id = `ta-${String(++this.#nextId).padStart(4, "0")}`;
    const container = new Container(id, new VllmEngine(profile, this.clock, { maxNumSeqs, gpuMemoryUtilization }), this.clock.now());
    this.#containers.push(container);
    return container;
  }

  #boot(): void {
    const container = this.#newContainer();
    this.#totals.coldStarts++;
    this.clock.schedule(this.clock.now() + this.settings.bootSeconds * 1000, () => {
      if (container.state !== "booting") return;
      this.#warm(container);
      this.#rebalance();
    });
  }

  #warm(container: Container): void {
    container.state = "warm";
    container.warmAtMs = this.clock.now();
    this.#armLoss(container);
    this.#armIdle(container);
  }

  #armLoss(container: Container): void {
    const perHour = this.settings.containerLossPerHour;
    if (perHour <= 0) return;
    // Exponential time to loss: a Poisson process per warm container.
    const waitMs = (-Math.log(1 - this.#rng.next()) / perHour) * 3_600_000;
    container.lossTimer = this.clock.schedule(this.clock.now() + waitMs, () => {
      if (container.state !== "warm") return;
      this.loseContainer(container.id);
    });
  }

  #armIdle(container: Container): void {
    if (container.inputs > 0 || container.idleTimer || container.state !== "warm") return;
    container.idleTimer = this.clock.schedule(this.clock.now() + this.settings.scaledownWindowSeconds * 1000, () => {
      container.idleTimer = null;
      if (container.state !== "warm" || container.inputs > 0) return;
      if (this.containers.length <= this.settings.minContainers) return;
      this.#totals.scaleDowns++;
      this.#end(container, "stopped");
      this.#rebalance();
    });
  }

  #end(container: Container, state: "stopped" | "lost"): void {
    container.state = state;
    container.endedAtMs = this.clock.now();
    container.idleTimer?.();
    container.lossTimer?.();
    container.inputs = 0;
    container.engine.die();
    const c = container.engine.counters;
    this.#ended.containerMs += container.endedAtMs - container.startedAtMs;
    this.#ended.busyMs += c.busyMs;
    this.#ended.preemptions += c.preemptions;
    this.#ended.promptTokens += c.promptTokens;
    this.#ended.generationTokens += c.generationTokens;
    this.#ended.recomputedTokens += c.recomputedTokens;
    this.#containers.splice(this.#containers.indexOf(container), 1);
  }

  #take(container: Container): Slot {
    container.inputs++;
    container.idleTimer?.();
    container.idleTimer = null;
    let released = false;
    return {
      container,
      release: () => {
        if (released) return;
        released = true;
        // A lost or stopped container already dropped its inputs.
        if (!container.live) return;
        container.inputs--;
        this.#armIdle(container);
        this.#rebalance();
      },
    };
  }

  /** A warm container with room, the way containers pull inputs: random below target, then below max. */
  #pick(): Container | null {
    const warm = this.#containers.filter((c) => c.state === "warm");
    const below = warm.filter((c) => c.inputs < this.settings.targetInputs);
    if (below.length > 0) return this.#rng.pick(below);
    const burst = warm.filter((c) => c.inputs < this.settings.maxInputs);
    return burst.length > 0 ? this.#rng.pick(burst) : null;
  }

  /** Dispatches what fits, then boots containers up to ceil(demand / target_inputs). */
  #rebalance(): void {
    // A dispatch callback may release its slot at once: finish this pass, then run another.
    if (this.#rebalancing) {
      this.#rebalanceAgain = true;
      return;
    }
    this.#rebalancing = true;
    try {
      do {
        this.#rebalanceAgain = false;
        this.#rebalanceOnce();
      } while (this.#rebalanceAgain);
    } finally {
      this.#rebalancing = false;
    }
  }

  #rebalanceOnce(): void {
    while (this.#queue.length > 0) {
      const container = this.#pick();
      if (!container) break;
      const next = this.#queue.shift() as Queued;
      const waitedMs = this.clock.now() - next.atMs;
      this.#totals.edgeWaitMs += waitedMs;
      this.#totals.edgeWaitMaxMs = Math.max(this.#totals.edgeWaitMaxMs, waitedMs);
      next.input.onDispatch(this.#take(container));
    }
    const { minContainers, maxContainers, targetInputs } = this.settings;
    const live = this.containers;
    const demand = live.reduce((s, c) => s + c.inputs, 0) + this.#queue.length;
    const desired = Math.min(maxContainers, Math.max(minContainers, Math.ceil(demand / targetInputs)));
    for (let n = live.length; n < desired; n++) this.#boot();
  }
}
