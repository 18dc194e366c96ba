/**
 * @module formats
 * vLLM's response shapes for both endpoints, streaming and not, read from
 * vllm/entrypoints/openai/{chat_completion,completion}/{serving,protocol}.py:
 * - chunks are `model_dump_json(exclude_unset=True)`: a field appears when the
 *   serving code sets it, null included, so every token chunk carries
 *   `token_ids: null` (and completions' `stop_reason` and `prompt_token_ids`),
 *   and chat's role chunk `prompt_token_ids` and `prompt_text`;
 * - a choice's last generated token and its `finish_reason` share one chunk
 *   (`length`, or a stop string); an end of sequence arrives as a last chunk
 *   with empty content (the EOS token's text);
 * - `system_fingerprint` rides on each finishing chunk, or only on the usage
 *   chunk when `include_usage` is on (that chunk is `exclude_none`);
 * - one chunk per engine output (`for output in res.outputs`): with
 *   `--stream-interval N` an output holds up to N tokens of one choice
 *   (stream-interval.ts), so the chunk's `delta.content` / `text` is their
 *   concatenation and its logprobs have one entry per token (chat's
 *   `content` list; completions' parallel arrays, `text_offset` running on
 *   from the choice's previous chunk). A finish that is an end of sequence
 *   rides on the chunk of the tokens still waiting, or has one of its own;
 * - `stream_options.continuous_usage_stats` counts only with `include_usage`
 *   (`should_include_usage`, vllm/entrypoints/serve/utils/api_utils.py);
 *   then every chunk, chat's role chunks included (completion_tokens 0),
 *   sets `usage` to `previous_num_tokens[i]`: the tokens of that chunk's
 *   choice sent so far, its own included. ChatCompletionStreamResponse and
 *   CompletionStreamResponse declare `usage` right after `choices`, before
 *   `system_fingerprint` and chat's `prompt_token_ids`, `prompt_text`. The
 *   trailing usage chunk still sums every choice;
 * - non-streamed responses are `model_dump()`: every field, nulls included.
 * JSON has no spaces, as pydantic writes it.
 */
import { SSE_DONE, sseEvent } from "../../shared/sse";
import { chatLogprobEntry, completionLogprobs, fakeLogprob } from "./logprobs";
import type { ChoicePlan } from "./plan";
import { hashString } from "./prng";
import type { ChoiceOutput } from "./stream-interval";

/** The vLLM release gpu/modal_app.py deploys (its VLLM_VERSION), for `system_fingerprint`. */
export const SIM_VLLM_VERSION = "0.21.0";

export interface ResponseContext {
  kind: "chat" | "completion";
  id: string;
  created: number;
  model: string;
  /** Alternatives per token when logprobs were asked for, else null. */
  logprobs: number | null;
  includeUsage: boolean;
  /** `continuous_usage_stats` with `include_usage`: usage on every streamed chunk. */
  continuousUsage: boolean;
  promptTokens: number;
  systemFingerprint: string;
}

/**
 * A fresh response id: `chatcmpl-` or `cmpl-` and 32 hex digits. vLLM builds it
 * as `f"chatcmpl-{self._base_request_id(raw_request, request.request_id)}"`
 * (chat_completion/serving.py, completion/serving.py) where `request_id`
 * defaults to `random_uuid()`, `uuid.uuid4().hex` (vllm/utils/__init__.py).
 */
export function responseId(kind: "chat" | "completion"): string {
  return `${kind === "chat" ? "chatcmpl" : "cmpl"}-${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * `--fingerprint-mode full` (the default, vllm/entrypoints/openai/fingerprint.py):
 * `vllm-<version>-<first 8 hex of the config hash>`, no parallelism suffix on
 * one GPU. The simulator hashes what stands for its config: models and window.
 */
export function systemFingerprint(models: readonly string[], maxModelLen: number): string {
  const hash8 = hashString(`${models.join(",")}\u0000${maxModelLen}`).toString(16).padStart(14, "0").slice(-8);
  return `vllm-${SIM_VLLM_VERSION}-${hash8}`;
}

/** UsageInfo's field order; the streamed usage chunk drops its null details. */
export function usage(promptTokens: number, completionTokens: number) {
  return { prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens, completion_tokens: completionTokens };
}

/** Builds the SSE frames of one streamed response. */
export class StreamFormatter {
  readonly #ctx: ResponseContext;
  readonly #plans: readonly ChoicePlan[];
  /** Characters sent per choice, for completions' `text_offset`. */
  readonly #offsets: number[];
  /** Tokens sent per choice: vLLM's `previous_num_tokens`, for continuous usage. */
  readonly #sentTokens: number[];

  constructor(ctx: ResponseContext, plans: readonly ChoicePlan[]) {
    this.#ctx = ctx;
    this.#plans = plans;
    this.#offsets = plans.map(() => 0);
    this.#sentTokens = plans.map(() => 0);
  }

  /** Chat's role chunk for every choice; completions have none. */
  start(): string {
    if (this.#ctx.kind !== "chat") return "";
    return this.#plans
      .map((p) =>
        this.#frame(
          { index: p.index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
          this.#usage(0),
          // Set explicitly on the first chunk (return_token_ids / return_prompt_text off): null, but present.
          { prompt_token_ids: null, prompt_text: null },
        ),
      )
      .join("");
  }

  /**
   * One output of one choice (stream-interval.ts): its tokens in one chunk,
   * and its finish when the output ends the choice (the last token cut by
   * max_tokens or a stop string, or an end of sequence, whose text is empty).
   */
  output(out: ChoiceOutput): string {
    const plan = this.#plans[out.choice];
    if (!plan) return "";
    const text = out.texts.join("");
    const logprobs = this.#logprobs(plan, out.texts, out.start);
    this.#offsets[out.choice] = (this.#offsets[out.choice] ?? 0) + text.length;
    const sent = (this.#sentTokens[out.choice] ?? 0) + out.texts.length;
    this.#sentTokens[out.choice] = sent;
    if (!out.finished) return this.#frame(this.#choice(out.choice, text, logprobs, null, null), this.#usage(sent));
    const fields = this.#choice(out.choice, text, logprobs, plan.finishReason, plan.stopReason);
    // With include_usage the trailing usage chunk carries the fingerprint instead.
    return this.#frame(fields, this.#usage(sent), this.#ctx.includeUsage ? {} : { system_fingerprint: this.#ctx.systemFingerprint });
  }

  /** The usage chunk (if asked for) and `[DONE]`. */
  end(completionTokens: number): string {
    const { id, created, model, promptTokens, systemFingerprint: fp } = this.#ctx;
    const usageChunk = this.#ctx.includeUsage
      ? sseEvent(JSON.stringify({ id, object: this.#object(), created, model, choices: [], usage: usage(promptTokens, completionTokens), system_fingerprint: fp }))
      : "";
    return usageChunk + sseEvent(SSE_DONE);
  }

  /** vLLM's in-stream error after streaming began (the status is already 200). */
  error(message: string): string {
    const body = { error: { message, type: "InternalServerError", param: null, code: 500 } };
    return sseEvent(JSON.stringify(body)) + sseEvent(SSE_DONE);
  }

  /** ChatCompletionResponseStreamChoice / CompletionResponseStreamChoice, as the serving code sets them. */
  #choice(index: number, text: string, logprobs: unknown, finishReason: string | null, stopReason: string | null) {
    if (this.#ctx.kind === "chat") {
      // stop_reason is set only on the finishing chunk.
      const end = finishReason === null ? { finish_reason: null } : { finish_reason: finishReason, stop_reason: stopReason };
      return { index, delta: { content: text }, logprobs, ...end, token_ids: null };
    }
    return { index, text, logprobs, finish_reason: finishReason, stop_reason: stopReason, prompt_token_ids: null, token_ids: null };
  }

  /** One entry per token of the output; null for a bare end of sequence (the simulator has no EOS token). */
  #logprobs(plan: ChoicePlan, texts: readonly string[], start: number): unknown {
    const k = this.#ctx.logprobs;
    if (k === null || texts.length === 0) return null;
    const entries = texts.map((t, i) => fakeLogprob(t, start + i, plan.seedKey, k));
    return this.#ctx.kind === "chat"
      ? { content: entries.map((e) => chatLogprobEntry(e, k)) }
      : completionLogprobs(entries, this.#offsets[plan.index] ?? 0);
  }

  /** Continuous usage for a chunk of a choice that has sent `completionTokens` so far. */
  #usage(completionTokens: number): Record<string, unknown> {
    return this.#ctx.continuousUsage ? { usage: usage(this.#ctx.promptTokens, completionTokens) } : {};
  }

  #object() {
    return this.#ctx.kind === "chat" ? "chat.completion.chunk" : "text_completion";
  }

  /** A chunk of one choice: `usage` (if any) right after `choices`, then the rest, in the models' field order. */
  #frame(choice: Record<string, unknown>, usageField: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
    const { id, created, model } = this.#ctx;
    return sseEvent(JSON.stringify({ id, object: this.#object(), created, model, choices: [choice], ...usageField, ...extra }));
  }
}

/** A whole non-streamed response, from the tokens each choice actually produced. */
export function buildResponse(ctx: ResponseContext, plans: readonly ChoicePlan[], sent: readonly string[][]) {
  let completionTokens = 0;
  const choices = plans.map((plan) => {
    const tokens = sent[plan.index] ?? [];
    completionTokens += tokens.length;
    const text = tokens.join("");
    const logprobs = ctx.logprobs === null ? null : allLogprobs(ctx, plan, tokens);
    const end = { finish_reason: plan.finishReason, stop_reason: plan.stopReason };
    // ChatMessage drops an empty tool_calls list; `reasoning` replaced `reasoning_content`.
    const message = { role: "assistant", content: text, refusal: null, annotations: null, audio: null, function_call: null, reasoning: null };
    return ctx.kind === "chat"
      ? { index: plan.index, message, logprobs, ...end, token_ids: null, routed_experts: null }
      : { index: plan.index, text, logprobs, ...end, token_ids: null, prompt_logprobs: null, prompt_token_ids: null, routed_experts: null };
  });
  const head = { id: ctx.id, object: ctx.kind === "chat" ? "chat.completion" : "text_completion", created: ctx.created, model: ctx.model, choices };
  const tail = {
    service_tier: null,
    system_fingerprint: ctx.systemFingerprint,
    usage: { ...usage(ctx.promptTokens, completionTokens), prompt_tokens_details: null, completion_tokens_details: null },
  };
  return ctx.kind === "chat"
    ? { ...head, ...tail, prompt_logprobs: null, prompt_token_ids: null, prompt_text: null, kv_transfer_params: null, ec_transfer_params: null, metrics: null }
    : { ...head, ...tail, kv_transfer_params: null, ec_transfer_params: null, metrics: null };
}

function allLogprobs(ctx: ResponseContext, plan: ChoicePlan, tokens: readonly string[]) {
  const k = ctx.logprobs ?? 0;
  const entries = tokens.map((t, i) => fakeLogprob(t, i, plan.seedKey, k));
  return ctx.kind === "chat" ? { content: entries.map((e) => chatLogprobEntry(e, k)) } : completionLogprobs(entries, 0);
}
