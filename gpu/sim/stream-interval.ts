/**
 * @module stream-interval
 * vLLM's `--stream-interval N` (`SchedulerConfig.stream_interval`, default 1)
 * as `RequestState.make_request_output` applies it
 * (vllm/v1/engine/output_processor.py). Each choice is its own request there
 * (an `n > 1` request fans out into one child request per choice), and with
 * N > 1 a choice sends an output only when
 * - it finished, or
 * - nothing was sent yet (`sent_tokens_offset == 0`: the first token goes out at once), or
 * - `num_output_tokens - sent_tokens_offset >= N`;
 * a streamed (DELTA) output carries every token since the last one
 * (`output_token_ids[sent_tokens_offset:]`) and their text. The serving code
 * writes one SSE chunk per output. With N = 1 every token is an output.
 * Tokens still waiting when the stream breaks (a drop, an in-stream error,
 * a client that left) are never sent.
 */
import { endsOnLastToken, type ChoicePlan } from "./plan";

/** One output of one choice: what the serving code writes as one chunk. */
export interface ChoiceOutput {
  choice: number;
  /** Every token since the choice's last output, oldest first; empty for a bare end of sequence. */
  texts: string[];
  /** Position of `texts[0]` in the choice (its `sent_tokens_offset` before this output). */
  start: number;
  /** This output ends the choice: its finish_reason goes with it. */
  finished: boolean;
}

/** Holds each choice's tokens back until vLLM's stream interval would send them. */
export class StreamIntervalBuffer {
  readonly #plans: readonly ChoicePlan[];
  readonly #interval: number;
  /** Tokens generated and not sent yet, per choice. */
  readonly #pending: string[][];
  /** `sent_tokens_offset` per choice. */
  readonly #sent: number[];
  readonly #finished: boolean[];

  constructor(plans: readonly ChoicePlan[], interval: number) {
    if (!Number.isInteger(interval) || interval < 1) throw new RangeError(`stream interval must be a whole number >= 1, got ${interval}`);
    this.#plans = plans;
    this.#interval = interval;
    this.#pending = plans.map(() => []);
    this.#sent = plans.map(() => 0);
    this.#finished = plans.map(() => false);
  }

  /** A token of `choice`: the output to send now, or null while it waits. */
  token(choice: number, text: string, position: number): ChoiceOutput | null {
    const plan = this.#plans[choice];
    const pending = this.#pending[choice];
    if (!plan || !pending || this.#finished[choice]) return null;
    pending.push(text);
    const sent = this.#sent[choice] ?? 0;
    // The step that samples the last token of a choice cut by max_tokens or a stop string also finishes it.
    const finished = position === plan.tokens.length - 1 && endsOnLastToken(plan);
    // num_output_tokens - sent_tokens_offset is what waits, this token included.
    if (!finished && sent !== 0 && pending.length < this.#interval) return null;
    return this.#flush(choice, finished);
  }

  /** The end of `choice`: what still waits, with the finish; null when its last token already carried it. */
  finish(choice: number): ChoiceOutput | null {
    if (!this.#plans[choice] || this.#finished[choice]) return null;
    return this.#flush(choice, true);
  }

  #flush(choice: number, finished: boolean): ChoiceOutput {
    const texts = this.#pending[choice] ?? [];
    const start = this.#sent[choice] ?? 0;
    this.#pending[choice] = [];
    this.#sent[choice] = start + texts.length;
    if (finished) this.#finished[choice] = true;
    return { choice, texts, start, finished };
  }
}
