/**
 * @module plan
 * Decides, before the first token, what each choice will say and why it will
 * end: the natural answer, cut by `max_tokens` ("length") or by the first
 * stop string ("stop", with `stop_reason`). Pacing and failures are the
 * engine's business; this is pure.
 */
import { generateAnswer } from "./answer";
import type { GenerationRequest } from "./request-schema";
import { tokenize } from "./tokenizer";

export interface ChoicePlan {
  index: number;
  /** Content tokens, one per stream chunk; never empty strings. */
  tokens: string[];
  finishReason: "stop" | "length";
  /** The stop string that ended the choice, or null. */
  stopReason: string | null;
  /** Salt for the choice's fake logprobs. */
  seedKey: string;
}

/**
 * Plans every choice. `maxTokens` is already resolved against the context
 * window; `nonce` makes sampled requests without a seed differ;
 * `configMinTokens` is the simulator's `min_tokens` knob (null: none), the
 * least every answer runs to whatever the request asks.
 */
export function planChoices(
  req: GenerationRequest,
  model: string,
  maxTokens: number,
  nonce: string,
  configMinTokens: number | null = null,
): ChoicePlan[] {
  const plans: ChoicePlan[] = [];
  const minTokens = Math.max(req.minTokens, configMinTokens ?? 0);
  for (let index = 0; index < req.n; index++) {
    // Greedy (or seeded) sampling is reproducible; otherwise every request differs.
    const reproducible = req.temperature === 0 || req.seed !== null;
    const seedKey = [model, req.promptText, req.seed ?? "", req.temperature, index, reproducible ? "" : nonce].join("\u0000");
    const text = generateAnswer({
      seedKey,
      answerKey: `${model}\u0000${req.promptText}`,
      question: req.question,
      // Never longer than max_tokens allows: a huge min_tokens must not build a huge text.
      minTokens: req.ignoreEos ? maxTokens : Math.min(minTokens, maxTokens),
    });
    plans.push({ index, seedKey, ...cut(text, maxTokens, req.stop, req.includeStopStr) });
  }
  return plans;
}

/** Applies `max_tokens`, then the earliest stop string within what was generated. */
export function cut(
  text: string,
  maxTokens: number,
  stop: readonly string[],
  includeStopStr = false,
): Pick<ChoicePlan, "tokens" | "finishReason" | "stopReason"> {
  let tokens = tokenize(text);
  let finishReason: ChoicePlan["finishReason"] = "stop";
  if (tokens.length > maxTokens) {
    tokens = tokens.slice(0, maxTokens);
    finishReason = "length";
  }
  const generated = tokens.join("");
  let at = -1;
  let stopReason: string | null = null;
  for (const s of stop) {
    const i = generated.indexOf(s);
    if (i !== -1 && (at === -1 || i < at)) {
      at = i;
      stopReason = s;
    }
  }
  if (stopReason === null) return { tokens, finishReason, stopReason };
  const kept = generated.slice(0, includeStopStr ? at + stopReason.length : at);
  return { tokens: tokenize(kept), finishReason: "stop", stopReason };
}
