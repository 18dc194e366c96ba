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
 * - non-streamed responses are `model_dump()`: every field, nulls included.
 * JSON has no spaces, as pydantic writes it.
 */
import { SSE_DONE, sseEvent } from "../../shared/sse";
import { chatLogprobEntry, completionLogprobs, fakeLogprob } from "./logprobs";
import type { ChoicePlan } from "./plan";
import { hashString } from "./prng";

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
  /** Choices whose finish already went out with their last token. */
  readonly #finished: boolean[];

  constructor(ctx: ResponseContext, plans: readonly ChoicePlan[]) {
    this.#ctx = ctx;
    this.#plans = plans;
    this.#offsets = plans.map(() => 0);
    this.#finished = plans.map(() => false);
  }

  /** Chat's role chunk for every choice; completions have none. */
  start(): string {
    if (this.#ctx.kind !== "chat") return "";
    return this.#plans
      .map((p) =>
        this.#frame(
          { index: p.index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
          // Set explicitly on the first chunk (return_token_ids / return_prompt_text off): null, but present.
          { prompt_token_ids: null, prompt_text: null },
        ),
      )
      .join("");
  }

  /** One token; the last one of a choice cut by max_tokens or a stop string carries the finish. */
  token(choice: number, text: string, position: number): string {
    const logprobs = this.#logprobs(choice, text, position);
    this.#offsets[choice] = (this.#offsets[choice] ?? 0) + text.length;
    const plan = this.#plans[choice];
    const last = plan !== undefined && position === plan.tokens.length - 1;
    if (last && (plan.finishReason === "length" || plan.stopReason !== null)) {
      this.#finished[choice] = true;
      return this.#finishFrame(choice, text, logprobs, plan);
    }
    return this.#frame(this.#choice(choice, text, logprobs, null, null));
  }

  /** A choice's end; empty when its last token already carried it. */
  finish(choice: number): string {
    if (this.#finished[choice]) return "";
    this.#finished[choice] = true;
    const plan = this.#plans[choice];
    // An end of sequence (or nothing generated): the EOS token's text is empty.
    return plan ? this.#finishFrame(choice, "", null, plan) : "";
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

  #finishFrame(choice: number, text: string, logprobs: unknown, plan: ChoicePlan): string {
    const fields = this.#choice(choice, text, logprobs, plan.finishReason, plan.stopReason);
    // With include_usage the trailing usage chunk carries the fingerprint instead.
    return this.#frame(fields, this.#ctx.includeUsage ? {} : { system_fingerprint: this.#ctx.systemFingerprint });
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

  #logprobs(choice: number, text: string, position: number): unknown {
    const k = this.#ctx.logprobs;
    const plan = this.#plans[choice];
    if (k === null || !plan) return null;
    const lp = fakeLogprob(text, position, plan.seedKey, k);
    return this.#ctx.kind === "chat"
      ? { content: [chatLogprobEntry(lp, k)] }
      : completionLogprobs([lp], this.#offsets[choice] ?? 0);
  }

  #object() {
    return this.#ctx.kind === "chat" ? "chat.completion.chunk" : "text_completion";
  }

  #frame(choice: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
    const { id, created, model } = this.#ctx;
    return sseEvent(JSON.stringify({ id, object: this.#object(), created, model, choices: [choice], ...extra }));
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
