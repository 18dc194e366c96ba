/**
 * @module spare-object
 * An uncached generation's object made ahead of the request that will use it.
 *
 * Making a Durable Object is the slowest part of a stream's start that is not
 * the backend: measured in local workerd, the first call to a new object
 * takes about 2 ms of the caller's thread, then the admission call and the
 * object's own start wait behind it (`bench/README.md`, time to first byte).
 * An uncached object's name is random and unknown to anyone until its request
 * uses it, so one made earlier is as good as one made now: each isolate keeps
 * one spare, made a little after a stream has started (so it never delays
 * that stream's first byte), and the next uncached generation takes it.
 *
 * A spare that is never used costs nothing: the object stores nothing until
 * a run starts (generation-storage `migrate`), so an unused one leaves no data
 * when it is evicted. The spare is a name, not a stub: a stub belongs to the
 * request that made it, a name can be used by any later one.
 */
import type { Env } from "../env";
import { generationObject } from "./generation-rpc";

/** How long after a stream started its isolate makes the next spare: after that stream's first events. */
export const SPARE_REFILL_DELAY_MS = 50;

/** 32 random hex characters: an uncached generation's object. */
export function randomObjectName(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

export class SpareObject {
  #name: string | null = null;
  #refilling = false;
  readonly #delayMs: number;

  constructor(options: { delayMs?: number } = {}) {
    this.#delayMs = options.delayMs ?? SPARE_REFILL_DELAY_MS;
  }

  /** The spare's name, which is then no longer the spare; null if there is none. */
  take(): string | null {
    const name = this.#name;
    this.#name = null;
    return name;
  }

  /** Makes a new spare after the delay unless there is one or one is being made; `waitUntil` keeps the request alive for it. */
  refill(env: Pick<Env, "GENERATIONS">, waitUntil: (promise: Promise<unknown>) => void): void {
    if (this.#name !== null || this.#refilling) return;
    this.#refilling = true;
    const made = new Promise((resolve) => setTimeout(resolve, this.#delayMs))
      .then(async () => {
        const name = randomObjectName();
        await generationObject(env, name).prepare();
        this.#name ??= name;
      })
      .catch(() => {})
      .finally(() => {
        this.#refilling = false;
      });
    waitUntil(made);
  }
}

/** This isolate's spare. */
export const isolateSpare = new SpareObject();
