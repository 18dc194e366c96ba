/**
 * @module formats
 * vLLM's response shapes for both endpoints, streaming and not. Key order and
 * omitted fields follow vLLM's pydantic `model_dump_json(exclude_unset=True)`:
 * `stop_reason` appears only on a choice's last chunk, `usage` only on the
 * usage chunk, and JSON has no spaces.
 */
import { SSE_DONE, sseEvent } from "../../shared/sse";
import { chatLogprobEntry, completionLogprobs, fakeLogprob } from "./logprobs";
import type { ChoicePlan } from "./plan";

export interface ResponseContext {
  kind: "chat" | "completion";
  id: string;
  created: number;
  model: string;
  /** Alternatives per token when logprobs were asked for, else null. */
  logprobs: number | null;
  includeUsage: boolean;
  promptTokens: number;
}

/** A fresh response id: `chatcmpl-` or `cmpl-` and 32 hex digits, as vLLM. */
export function responseId(kind: "chat" | "completion"): string {
  return `${kind === "chat" ? "chatcmpl" : "cmpl"}-${crypto.randomUUID().replaceAll("-", "")}`;
}

export function usage(promptTokens: number, completionTokens: number) {
  return { prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens, completion_tokens: completionTokens };
}

/** Builds the SSE frames of one streamed response. */
export class StreamFormatter {
  readonly #ctx: ResponseContext;
  readonly #plans: readonly ChoicePlan[];
  /** Characters sent per choice, for completions' `text_offset`. */
  readonly #offsets: number[];

  constructor(ctx: ResponseContext, plans: readonly ChoicePlan[]) {
    this.#ctx = ctx;
    this.#plans = plans;
    this.#offsets = plans.map(() => 0);
  }

  /** Chat's role chunk for every choice; completions have none. */
  start(): string {
    if (this.#ctx.kind !== "chat") return "";
    return this.#plans
      .map((p) => this.#frame({ index: p.index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }))
      .join("");
  }

  token(choice: number, text: string, position: number): string {
    const logprobs = this.#logprobs(choice, text, position);
    this.#offsets[choice] = (this.#offsets[choice] ?? 0) + text.length;
    return this.#frame(this.#choice(choice, text, { logprobs, finish_reason: null }));
  }

  finish(choice: number): string {
    const plan = this.#plans[choice];
    const fields = { logprobs: null, finish_reason: plan?.finishReason ?? "stop", stop_reason: plan?.stopReason ?? null };
    return this.#frame(this.#choice(choice, "", fields));
  }

  /** The usage chunk (if asked for) and `[DONE]`. */
  end(completionTokens: number): string {
    const { id, created, model, promptTokens } = this.#ctx;
    const usageChunk = this.#ctx.includeUsage
      ? sseEvent(JSON.stringify({ id, object: this.#object(), created, model, choices: [], usage: usage(promptTokens, completionTokens) }))
      : "";
    return usageChunk + sseEvent(SSE_DONE);
  }

  /** vLLM's in-stream error after streaming began (the status is already 200). */
  error(message: string): string {
    const body = { error: { message, type: "InternalServerError", param: null, code: 500 } };
    return sseEvent(JSON.stringify(body)) + sseEvent(SSE_DONE);
  }

  #choice(index: number, text: string, rest: Record<string, unknown>) {
    return this.#ctx.kind === "chat" ? { index, delta: { content: text }, ...rest } : { index, text, ...rest };
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

  #frame(choice: Record<string, unknown>): string {
    const { id, created, model } = this.#ctx;
    return sseEvent(JSON.stringify({ id, object: this.#object(), created, model, choices: [choice] }));
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
    return ctx.kind === "chat"
      ? { index: plan.index, message: { role: "assistant", content: text, reasoning_content: null, tool_calls: [] }, logprobs, ...end }
      : { index: plan.index, text, logprobs, ...end, prompt_logprobs: null };
  });
  const object = ctx.kind === "chat" ? "chat.completion" : "text_completion";
  return { id: ctx.id, object, created: ctx.created, model: ctx.model, choices, usage: usage(ctx.promptTokens, completionTokens) };
}

function allLogprobs(ctx: ResponseContext, plan: ChoicePlan, tokens: readonly string[]) {
  const k = ctx.logprobs ?? 0;
  const entries = tokens.map((t, i) => fakeLogprob(t, i, plan.seedKey, k));
  return ctx.kind === "chat" ? { content: entries.map((e) => chatLogprobEntry(e, k)) } : completionLogprobs(entries, 0);
}
