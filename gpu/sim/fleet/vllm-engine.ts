/**
 * @module fleet/vllm-engine
 * One container's vLLM engine, step by step, on a simulated clock: the v1
 * scheduler's continuous batching as vllm/v1/core/sched/scheduler.py does
 * it. Each step first gives every running sequence its next token (or its
 * next prefill chunk, within `max_num_batched_tokens`); when a sequence
 * needs a KV block and none is free, the newest running sequence is
 * preempted (its blocks freed, recomputed later from scratch: its stream
 * pauses); only when nobody was preempted are waiting sequences admitted,
 * while fewer than `max_num_seqs` run and their first chunk's blocks are
 * free. A step lasts `stepMs` of the work it holds (perf/arithmetic.ts).
 * Sequences of one request share their prompt's full blocks (prefix
 * caching), so `n` choices cost one prompt.
 */
import { kvCapacityBlocks, stepMs } from "../perf/arithmetic";
import type { GpuProfile } from "../perf/profiles";
import type { CancelTimer, SimClock } from "./clock";

/** A sequence to run: one choice of one request. */
export interface SequenceRequest {
  model: string;
  promptTokens: number;
  /** Tokens it generates before it stops (at least one is sampled). */
  outputTokens: number;
  /** Sequences with the same key share the prompt's full KV blocks (one request's `n` choices). */
  prefixKey: object | null;
}

export type SequenceState = "waiting" | "running" | "finished" | "aborted";

interface PrefixEntry {
  key: object;
  blocks: number;
  holders: number;
  allocated: boolean;
}

/** A sequence inside the engine; read its progress, never write it. */
export class EngineSequence {
  state: SequenceState = "waiting";
  /** Tokens sampled so far (each is streamed once). */
  generated = 0;
  /** Tokens whose KV is in the cache. */
  computed = 0;
  ownBlocks = 0;
  /** The most tokens ever cached: what lies below it and is computed again is recomputation. */
  maxComputed = 0;
  preemptions = 0;
  firstTokenAtMs: number | null = null;
  /** True when the engine died under it (container lost). */
  lost = false;
  /** Called after every change a reader may care about: tokens, finish, abort. */
  onChange: (() => void) | null = null;
  prefix: PrefixEntry | null = null;

  constructor(
    readonly request: Readonly<SequenceRequest>,
    readonly submittedAtMs: number,
  ) {}

  /** Tokens to compute before the next token can be sampled: prompt + generated, less what is cached. */
  toCompute(): number {
    return this.request.promptTokens + this.generated - this.computed;
  }

  get done(): boolean {
    return this.state === "finished" || this.state === "aborted";
  }
}

/** Engine settings beyond the profile. */
export interface EngineOptions {
  maxNumSeqs: number;
  gpuMemoryUtilization?: number;
}

/** Counters since the engine started. */
export interface EngineCounters {
  steps: number;
  busyMs: number;
  preemptions: number;
  /** Prompt tokens prefilled the first time (vllm:prompt_tokens_total). */
  promptTokens: number;
  /** Tokens recomputed after a preemption. */
  recomputedTokens: number;
  generationTokens: number;
  finished: number;
  aborted: number;
}

/** The gauges vLLM's /metrics shows, per served model. */
export interface EngineGauges {
  running: number;
  waiting: number;
  /** Used KV blocks over all blocks: vllm:kv_cache_usage_perc. */
  kvUsage: number;
}

interface Scheduled {
  seq: EngineSequence;
  tokens: number;
}

export class VllmEngine {
  readonly capacityBlocks: number;
  readonly counters: EngineCounters = { steps: 0, busyMs: 0, preemptions: 0, promptTokens: 0, recomputedTokens: 0, generationTokens: 0, finished: 0, aborted: 0 };
  readonly #profile: GpuProfile;
  readonly #clock: SimClock;
  readonly #maxNumSeqs: number;
  readonly #running: EngineSequence[] = [];
  readonly #waiting: EngineSequence[] = [];
  readonly #prefixes = new Map<object, PrefixEntry>();
  #usedBlocks = 0;
  #step: { endsAtMs: number; scheduled: Scheduled[] } | null = null;
  #timer: CancelTimer | null = null;
  #kicked = false;
  #dead = false;

  constructor(profile: GpuProfile, clock: SimClock, options: EngineOptions) {
    this.#profile = profile;
    this.#clock = clock;
    this.#maxNumSeqs = options.maxNumSeqs;
    this.capacityBlocks = kvCapacityBlocks(profile, options.gpuMemoryUtilization);
  }

  /** Queues a sequence (FCFS); it runs from the next step boundary. */
  submit(request: SequenceRequest): EngineSequence {
    const seq = new EngineSequence(request, this.#clock.now());
    if (this.#dead) {
      this.#kill(seq);
      return seq;
    }
    this.#waiting.push(seq);
    this.#kick();
    return seq;
  }

  /** Stops a sequence now (the client left): its blocks are free for the next step. */
  abort(seq: EngineSequence): void {
    if (seq.done) return;
    this.#remove(seq);
    seq.state = "aborted";
    this.counters.aborted++;
    seq.onChange?.();
  }

  /** The container died: every sequence ends as lost and nothing runs again. */
  die(): void {
    this.#dead = true;
    this.#timer?.();
    this.#timer = null;
    this.#step = null;
    for (const seq of [...this.#running, ...this.#waiting]) {
      this.#remove(seq);
      this.#kill(seq);
    }
  }

  get usedBlocks(): number {
    return this.#usedBlocks;
  }

  get runningCount(): number {
    return this.#running.length;
  }

  get waitingCount(): number {
    return this.#waiting.length;
  }

  /** Whether anything is queued or running. */
  get busy(): boolean {
    return this.#running.length + this.#waiting.length > 0;
  }

  /** Gauges for one served model (all models when `model` is omitted). */
  gauges(model?: string): EngineGauges {
    const count = (list: readonly EngineSequence[]) => (model === undefined ? list.length : list.filter((s) => s.request.model === model).length);
    return { running: count(this.#running), waiting: count(this.#waiting), kvUsage: this.capacityBlocks === 0 ? 0 : this.#usedBlocks / this.capacityBlocks };
  }

  #kill(seq: EngineSequence): void {
    seq.state = "aborted";
    seq.lost = true;
    this.counters.aborted++;
    seq.onChange?.();
  }

  /** Takes a sequence out of the queues and gives back its blocks. */
  #remove(seq: EngineSequence): void {
    const r = this.#running.indexOf(seq);
    if (r !== -1) this.#running.splice(r, 1);
    const w = this.#waiting.indexOf(seq);
    if (w !== -1) this.#waiting.splice(w, 1);
    this.#usedBlocks -= seq.ownBlocks;
    seq.ownBlocks = 0;
    this.#leavePrefix(seq);
  }

  #sharedBlocks(seq: EngineSequence): number {
    // Every sequence computes at least its last prompt token itself.
    return seq.request.prefixKey === null ? 0 : Math.floor(Math.max(0, seq.request.promptTokens - 1) / this.#profile.blockSizeTokens);
  }

  #joinPrefix(seq: EngineSequence): void {
    const key = seq.request.prefixKey;
    const blocks = this.#sharedBlocks(seq);
    if (key === null || blocks === 0 || seq.prefix) return;
    let entry = this.#prefixes.get(key);
    if (!entry) {
      entry = { key, blocks, holders: 0, allocated: false };
      this.#prefixes.set(key, entry);
    }
    entry.holders++;
    seq.prefix = entry;
    if (entry.allocated) seq.computed = Math.max(seq.computed, blocks * this.#profile.blockSizeTokens);
  }

  #leavePrefix(seq: EngineSequence): void {
    const entry = seq.prefix;
    if (!entry) return;
    seq.prefix = null;
    entry.holders--;
    if (entry.holders > 0) return;
    if (entry.allocated) this.#usedBlocks -= entry.blocks;
    this.#prefixes.delete(entry.key);
  }

  /** Blocks a sequence must add to hold `tokens` more in the cache. */
  #blocksToGrow(seq: EngineSequence, tokens: number): number {
    const shared = seq.prefix?.blocks ?? 0;
    const own = Math.max(0, Math.ceil((seq.computed + tokens) / this.#profile.blockSizeTokens) - shared);
    const newPrefix = seq.prefix && !seq.prefix.allocated ? seq.prefix.blocks : 0;
    return own - seq.ownBlocks + newPrefix;
  }

  #grow(seq: EngineSequence, tokens: number): void {
    const extra = this.#blocksToGrow(seq, tokens);
    if (seq.prefix && !seq.prefix.allocated) {
      seq.prefix.allocated = true;
      seq.ownBlocks += extra - seq.prefix.blocks;
    } else seq.ownBlocks += extra;
    this.#usedBlocks += extra;
  }

  #canGrow(seq: EngineSequence, tokens: number): boolean {
    return this.#blocksToGrow(seq, tokens) <= this.capacityBlocks - this.#usedBlocks;
  }

  /** Recompute preemption of the newest running sequence, as vLLM v1 does when blocks run out. */
  #preemptNewest(): EngineSequence | undefined {
    const victim = this.#running.at(-1);
    if (!victim) return undefined;
    this.#remove(victim);
    victim.computed = 0;
    victim.state = "waiting";
    victim.preemptions++;
    this.counters.preemptions++;
    this.#waiting.unshift(victim);
    return victim;
  }

  /** Builds the batch for the step starting at `atMs` and arms its end. */
  #startStep(atMs: number): void {
    let budget = this.#profile.maxNumBatchedTokens;
    const scheduled: Scheduled[] = [];
    let preempted = false;
    for (let i = 0; i < this.#running.length && budget > 0; ) {
      const seq = this.#running[i] as EngineSequence;
      const tokens = Math.min(seq.toCompute(), budget);
      let selfPreempted = false;
      while (!this.#canGrow(seq, tokens)) {
        const victim = this.#preemptNewest();
        preempted = true;
        if (!victim || victim === seq) {
          selfPreempted = true;
          break;
        }
      }
      if (selfPreempted) break;
      this.#grow(seq, tokens);
      scheduled.push({ seq, tokens });
      budget -= tokens;
      i++;
    }
    // vLLM admits nothing in a step that had to preempt.
    while (!preempted && this.#waiting.length > 0 && this.#running.length < this.#maxNumSeqs && budget > 0) {
      const seq = this.#waiting[0] as EngineSequence;
      this.#joinPrefix(seq);
      const tokens = Math.min(seq.toCompute(), budget);
      if (!this.#canGrow(seq, tokens)) {
        this.#leavePrefix(seq);
        seq.computed = 0;
        break;
      }
      this.#waiting.shift();
      this.#running.push(seq);
      seq.state = "running";
      this.#grow(seq, tokens);
      scheduled.push({ seq, tokens });
      budget -= tokens;
    }
    if (scheduled.length === 0) {
      this.#step = null;
      // Everything running was preempted: the next pass admits from the waiting queue.
      if (preempted && this.#waiting.length > 0) this.#startStep(atMs);
      return;
    }
    let decodeSequences = 0;
    let prefillTokens = 0;
    let contextTokens = 0;
    for (const { seq, tokens } of scheduled) {
      if (tokens === 1 && seq.generated > 0) decodeSequences++;
      else prefillTokens += tokens;
      contextTokens += seq.computed + tokens;
    }
    const durationMs = stepMs(this.#profile, { decodeSequences, prefillTokens, contextTokens });
    this.counters.steps++;
    this.counters.busyMs += durationMs;
    this.#step = { endsAtMs: atMs + durationMs, scheduled };
  }

  /**
   * Starts a step on an idle engine once every submission of this instant
   * is in, as vLLM's engine loop drains its input queue before scheduling.
   */
  #kick(): void {
    if (this.#step || this.#kicked) return;
    this.#kicked = true;
    this.#clock.schedule(this.#clock.now(), () => {
      this.#kicked = false;
      if (this.#step || this.#dead) return;
      this.#startStep(this.#clock.now());
      this.#arm();
    });
  }

  /** Wakes at the current step's end. */
  #arm(): void {
    if (this.#step && !this.#timer) this.#timer = this.#clock.schedule(this.#step.endsAtMs, () => this.#onTimer());
  }

  #onTimer(): void {
    this.#timer = null;
    // A late wall-clock timer may owe several steps: run every step that ended by now.
    const now = this.#clock.now();
    while (this.#step && this.#step.endsAtMs <= now) {
      const { endsAtMs, scheduled } = this.#step;
      this.#step = null;
      this.#endStep(endsAtMs, scheduled);
      this.#startStep(endsAtMs);
    }
    this.#arm();
  }

  #endStep(atMs: number, scheduled: readonly Scheduled[]): void {
    for (const { seq, tokens } of scheduled) {
      if (seq.state !== "running") continue; // aborted during the step
      this.counters.recomputedTokens += Math.max(0, Math.min(seq.computed + tokens, seq.maxComputed) - seq.computed);
      seq.computed += tokens;
      seq.maxComputed = Math.max(seq.maxComputed, seq.computed);
      if (seq.toCompute() > 0) continue; // a prefill chunk: no token yet
      if (seq.firstTokenAtMs === null) {
        seq.firstTokenAtMs = atMs;
        this.counters.promptTokens += seq.request.promptTokens;
      }
      seq.generated++;
      this.counters.generationTokens++;
      if (seq.generated >= Math.max(1, seq.request.outputTokens)) {
        this.#remove(seq);
        seq.state = "finished";
        this.counters.finished++;
      }
      seq.onChange?.();
    }
  }
}
