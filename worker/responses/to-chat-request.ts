/**
 * @module to-chat-request
 * A Responses request as the chat request the existing pipeline runs
 * (LIMO's defaults, the context clamp, admission, the cache, durable
 * generations all then apply unchanged), and its input as the message items
 * a stored response keeps (each with an id, as `input_items` lists them).
 * Pure.
 */
import type { ChatCompletionRequest, ChatMessage } from "../../shared/openai";
import { isMessageItem, type InputMessageItem, type ResponseCreateRequest } from "../../shared/openai-responses";

/** One turn of a stored conversation: what was sent, and what LIMO answered (null: nothing yet). */
export interface Turn {
  input: readonly InputMessageItem[];
  output: string | null;
}

/** The input as message items with ids (`msg_<response>_<n>`), text parts only (the field table refused the rest). */
export function inputItems(responseId: string, input: ResponseCreateRequest["input"]): InputMessageItem[] {
  const base = responseId.replace(/^resp_/, "");
  if (typeof input === "string") return [{ type: "message", id: `msg_${base}_in0`, status: "completed", role: "user", content: [{ type: "input_text", text: input }] }];
  const items: InputMessageItem[] = [];
  for (const [i, item] of input.entries()) {
    if (!isMessageItem(item)) continue;
    const texts: string[] = [];
    if (typeof item.content === "string") texts.push(item.content);
    else for (const p of item.content) if (p.type === "input_text" || p.type === "output_text") texts.push(p.text);
    const content: InputMessageItem["content"] =
      item.role === "assistant"
        ? texts.map((text) => ({ type: "output_text", text, annotations: [] }))
        : texts.map((text) => ({ type: "input_text", text }));
    items.push({ type: "message", id: `msg_${base}_in${i}`, status: "completed", role: item.role, content });
  }
  return items;
}

/** A message item as a chat message: `developer` stays (prepare sends it as `system`), parts become text. */
function chatMessage(item: InputMessageItem): ChatMessage {
  const text = item.content.map((p) => p.text).join("");
  if (item.role === "assistant") return { role: "assistant", content: text };
  return { role: item.role, content: text };
}

/** The history of a chain (oldest turn first) as chat messages: each turn's input, then its answer. */
export function historyMessages(turns: readonly Turn[]): ChatMessage[] {
  return turns.flatMap((t) => [...t.input.map(chatMessage), ...(t.output === null ? [] : [{ role: "assistant" as const, content: t.output }])]);
}

/**
 * The chat request: `instructions` first (as the system message; without it
 * LIMO's system prompt applies), then the history, then this turn's input.
 * The chat stream always carries usage: `response.completed` reports it.
 */
export function toChatRequest(request: ResponseCreateRequest, items: readonly InputMessageItem[], history: readonly ChatMessage[]): ChatCompletionRequest {
  const messages: ChatMessage[] = [
    ...(request.instructions ? [{ role: "system" as const, content: request.instructions }] : []),
    ...history,
    ...items.map(chatMessage),
  ];
  const stream = request.stream === true;
  return {
    model: request.model,
    messages,
    max_completion_tokens: request.max_output_tokens ?? undefined,
    temperature: request.temperature ?? undefined,
    top_p: request.top_p ?? undefined,
    stream,
    stream_options: stream ? { include_usage: true } : undefined,
    user: request.user ?? undefined,
    safety_identifier: request.safety_identifier ?? undefined,
    background: request.background ?? undefined,
    cache: request.cache ?? undefined,
    vote: request.vote ?? undefined,
    tutor: request.tutor ?? undefined,
  };
}
