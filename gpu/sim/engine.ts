/**
 * @module engine
 * Plays a planned generation out in time: waits for a slot, then the time to
 * first token, then emits one token per choice per step at the configured
 * pace, and injects the configured failures. It is an async generator so the
 * consumer pulls each event: a stream that is not read generates nothing,
 * and an aborted `signal` stops it inside any wait. An instance viewed
 * through a fleet container (`inst.container`) runs the modelled engine
 * instead (fleet/run-modelled.ts): tokens come when that container's vLLM
 * steps produce them, whoever reads.
 */
import { runModelled } from "./fleet/run-modelled";
import type { Generation, SimInstance } from "./instance";
import type { ChoicePlan } from "./plan";
import { injectedFailure, type EngineEvent } from "./engine-events";

export { injectedFailure, type EngineEvent };

/**
 * With tokens_per_second 0, give the event loop a turn this often, so that a
 * disconnect (an I/O event) is noticed while a long answer streams.
 */
const YIELD_EVERY_STEPS = 16;

/** Runs one generation; returns normally once every choice has finished. */
export async function* runEngine(
  inst: SimInstance,
  gen: Generation,
  plans: readonly ChoicePlan[],
  signal: AbortSignal,
): AsyncGenerator<EngineEvent, void, undefined> {
  if (inst.container) {
    yield* runModelled(inst, inst.container.engine, gen, plans, signal);
    return;
  }
  await inst.acquireSlot(gen, signal);
  await sleep(inst.config.ttft_ms, signal);
  yield { type: "start" };
  const positions = plans.map(() => 0);
  const finished = plans.map(() => false);
  let remaining = plans.length;
  for (let step = 1; remaining > 0; step++) {
    for (const plan of plans) {
      if (finished[plan.index]) continue;
      const position = positions[plan.index] ?? 0;
      const text = plan.tokens[position];
      if (text === undefined) {
        finished[plan.index] = true;
        remaining--;
        yield { type: "finish", choice: plan.index };
        continue;
      }
      const failure = injectedFailure(inst, gen);
      if (failure) {
        yield failure;
        return;
      }
      positions[plan.index] = position + 1;
      inst.recordTokens(gen, 1);
      yield { type: "token", choice: plan.index, text, position };
    }
    if (remaining === 0) break;
    const tps = inst.config.tokens_per_second;
    if (tps > 0) await sleep(1000 / tps, signal);
    else if (step % YIELD_EVERY_STEPS === 0) await sleep(0, signal);
  }
}

/** Waits `ms` (0 still yields a macrotask); rejects with the abort reason. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Resolves when `signal` aborts: a hung request waits for its client to leave. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
