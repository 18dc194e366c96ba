/**
 * @module fleet/run-modelled
 * A generation on a container's modelled vLLM engine: each choice becomes
 * one engine sequence (vLLM fans `n` out the same way, sharing the prompt's
 * blocks), and its planned tokens are released as the engine's steps
 * sample them. A preempted sequence simply stops producing until it is
 * recomputed: its stream pauses. A lost container ends the stream as a
 * broken connection. The drop/error knobs apply as in the simple engine.
 */
import { injectedFailure, type EngineEvent } from "../engine-events";
import type { Generation, SimInstance } from "../instance";
import type { ChoicePlan } from "../plan";
import type { EngineSequence, VllmEngine } from "./vllm-engine";

/** Runs one generation's choices on `engine`; returns once every choice has finished. */
export async function* runModelled(
  inst: SimInstance,
  engine: VllmEngine,
  gen: Generation,
  plans: readonly ChoicePlan[],
  signal: AbortSignal,
): AsyncGenerator<EngineEvent, void, undefined> {
  signal.throwIfAborted();
  inst.markHung(gen); // at its container: running, as far as the instance's counters go
  const prefixKey = {};
  const seqs: EngineSequence[] = plans.map((plan) =>
    engine.submit({ model: gen.model, promptTokens: gen.promptTokens, outputTokens: plan.tokens.length, prefixKey }),
  );
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  for (const seq of seqs) seq.onChange = notify;
  signal.addEventListener("abort", notify, { once: true });
  const emitted = plans.map(() => 0);
  const finished = plans.map(() => false);
  let remaining = plans.length;
  let started = false;
  try {
    while (remaining > 0) {
      signal.throwIfAborted();
      let progressed = false;
      for (const plan of plans) {
        const i = plan.index;
        const seq = seqs[i] as EngineSequence;
        if (finished[i]) continue;
        if (seq.lost) {
          yield { type: "drop" };
          return;
        }
        const ready = Math.min(seq.generated, plan.tokens.length);
        while ((emitted[i] ?? 0) < ready) {
          if (!started) {
            started = true;
            yield { type: "start" };
          }
          const failure = injectedFailure(inst, gen);
          if (failure) {
            yield failure;
            return;
          }
          const position = emitted[i] ?? 0;
          emitted[i] = position + 1;
          inst.recordTokens(gen, 1);
          progressed = true;
          yield { type: "token", choice: i, text: plan.tokens[position] as string, position };
        }
        if (seq.state === "finished") {
          if (!started) {
            started = true;
            yield { type: "start" };
          }
          finished[i] = true;
          remaining--;
          progressed = true;
          yield { type: "finish", choice: i };
        }
      }
      // Nothing new: sleep until a step changes one of our sequences (or the client leaves).
      if (remaining > 0 && !progressed) await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    signal.removeEventListener("abort", notify);
    for (const seq of seqs) {
      seq.onChange = null;
      if (!seq.done) engine.abort(seq);
    }
  }
}
