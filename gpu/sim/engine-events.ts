/**
 * @module engine-events
 * What an engine run yields, and the failures the knobs inject into it:
 * shared by the simple engine (engine.ts) and the modelled one
 * (fleet/run-modelled.ts), which engine.ts dispatches to.
 */
import type { Generation, SimInstance } from "./instance";

export type EngineEvent =
  /** The first token is ready: chat sends its role chunks now. */
  | { type: "start" }
  | { type: "token"; choice: number; text: string; position: number }
  | { type: "finish"; choice: number }
  /** error_after_tokens: an in-stream error event, then [DONE]. */
  | { type: "error" }
  /** drop_after_tokens: break the connection. */
  | { type: "drop" };

/**
 * The failure drop_after_tokens or error_after_tokens injects before the
 * next token, or null. Read at every token, so a test can change it mid-stream.
 */
export function injectedFailure(inst: SimInstance, gen: Generation): Extract<EngineEvent, { type: "drop" | "error" }> | null {
  const { drop_after_tokens: dropAfter, error_after_tokens: errorAfter } = inst.config;
  if (dropAfter !== null && gen.generated >= dropAfter) return { type: "drop" };
  if (errorAfter !== null && gen.generated >= errorAfter) return { type: "error" };
  return null;
}

