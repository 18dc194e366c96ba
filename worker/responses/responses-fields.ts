/**
 * @module responses-fields
 * What each field of `POST /v1/responses` does: served (mapped onto the chat
 * request the pipeline runs), accepted with no effect (what clients send by
 * default and that changes nothing for LIMO), or refused with a 400
 * `unsupported_parameter` naming it. One table, read by validation
 * (`responsesRefusal`) and the README. Pure.
 */
import { isMessageItem, type ResponseCreateRequest } from "../../shared/openai-responses";
import { fieldRefusal, fieldTableRows, type FieldTable, type Refusal } from "../generations/openai-fields";
import type { ApiError } from "../core/errors";

const TOOLS_REASON = "LIMO calls no tools: it answers in text";
const TEXT_ONLY = "LIMO reads text only";

/** Why an input item cannot be served, or null (message items with text parts only). */
function inputRefusal(input: ResponseCreateRequest["input"]): Refusal {
  if (typeof input === "string") return null;
  for (const [i, item] of input.entries()) {
    const at = `input[${i}]`;
    if (!isMessageItem(item)) {
      if (item.type === "item_reference" && typeof item.id === "string") continue;
      return { param: `${at}.type`, reason: `'${String(item.type)}' items are not served (${TOOLS_REASON})` };
    }
    if (typeof item.content === "string") continue;
    for (const [j, part] of item.content.entries()) {
      if (part.type === "input_image" || part.type === "input_file" || part.type === "input_audio") {
        return { param: `${at}.content[${j}]`, reason: `${TEXT_ONLY}: '${part.type}' parts cannot be served` };
      }
    }
  }
  return null;
}

export const RESPONSES_FIELDS: FieldTable<ResponseCreateRequest> = {
  model: { treatment: "mapped", note: "`limo`, `limo-v2` or a catalogue alias, as on chat." },
  input: {
    treatment: "mapped",
    note: "A string, or message items (`user`, `assistant`, `system`, `developer`; text or `input_text`/`output_text` parts), or `item_reference`s to a stored response's items (as the AI SDK sends earlier answers); other items and image, file or audio parts are refused.",
    refuse: inputRefusal,
  },
  instructions: { treatment: "mapped", note: "The system message (LIMO's system prompt when unset); not carried to a follow-up, as OpenAI." },
  max_output_tokens: { treatment: "mapped", note: "The chat `max_completion_tokens`: clamped to what the context leaves." },
  temperature: { treatment: "served", note: "LIMO's default 0.7 when unset." },
  top_p: { treatment: "served", note: "LIMO's default 0.95 when unset." },
  stream: { treatment: "mapped", note: "Responses events with `sequence_number`, re-shaped from the chat stream." },
  stream_options: { treatment: "no effect", note: "`include_obfuscation`: no obfuscation padding is sent." },
  store: { treatment: "mapped", note: "Default true: the response is kept for `GET`, resumes and `previous_response_id`; false keeps nothing after the stream ends." },
  background: { treatment: "mapped", note: "Runs on in its generation object; `GET /v1/responses/{id}` polls. Needs `store`." },
  previous_response_id: { treatment: "mapped", note: "The stored chain's inputs and outputs become the history." },
  metadata: { treatment: "mapped", note: "Kept on the response object." },
  user: { treatment: "mapped", note: "The end user when at most 64 characters (ledger, per-end-user limits), as on chat." },
  safety_identifier: { treatment: "mapped", note: "The end user, up to 64 characters." },
  truncation: {
    treatment: "mapped",
    note: "`disabled` (the default) accepted; `auto` refused: a history that does not fit is a 400, never silently cut.",
    refuse: (v) => (v === "auto" ? "LIMO never drops earlier turns to fit the context: send 'disabled' and a shorter history" : null),
  },
  text: {
    treatment: "mapped",
    note: "`format: {type: \"text\"}` and `verbosity` accepted; `json_schema`/`json_object` refused until the backend serves them.",
    refuse: (v) =>
      v.format && v.format.type !== "text" ? { param: "text.format", reason: `'${v.format.type}' output is not served by LIMO's Responses API yet: use chat completions' response_format` } : null,
  },
  reasoning: {
    treatment: "no effect",
    note: "`effort` accepted (LIMO always reasons in full); `summary` refused: LIMO's reasoning is the answer's text, there is no summary.",
    refuse: (v) =>
      v.summary != null || v.generate_summary != null
        ? { param: v.summary != null ? "reasoning.summary" : "reasoning.generate_summary", reason: "LIMO's reasoning is in the answer's text; no reasoning summary is produced" }
        : null,
  },
  include: {
    treatment: "no effect",
    note: "`[]` accepted; anything else refused (no encrypted reasoning, no logprobs, no tool results).",
    refuse: (v) => (v.length > 0 ? { param: "include", reason: `'${v[0]}' cannot be included: LIMO produces text only` } : null),
  },
  parallel_tool_calls: { treatment: "no effect", note: "No tools are called." },
  tools: { treatment: "refused", note: "`[]` accepted; any tool refused.", refuse: (v) => (v.length > 0 ? TOOLS_REASON : null) },
  tool_choice: {
    treatment: "refused",
    note: "`none` and `auto` accepted (no tools); anything else refused.",
    refuse: (v) => (v === "none" || v === "auto" ? null : TOOLS_REASON),
  },
  max_tool_calls: { treatment: "no effect", note: "No tools are called." },
  top_logprobs: { treatment: "refused", note: "`0` accepted; more refused.", refuse: (v) => (v > 0 ? "log probabilities are not served on the Responses API: use chat completions' logprobs" : null) },
  service_tier: { treatment: "no effect", note: "One tier; the response says `default`." },
  prompt_cache_key: { treatment: "no effect", note: "vLLM caches prefixes by itself." },
  prompt_cache_retention: { treatment: "no effect", note: "vLLM caches prefixes by itself." },
  prompt_cache_options: { treatment: "no effect", note: "vLLM caches prefixes by itself." },
  conversation: { treatment: "refused", note: "Conversations are not served: use `previous_response_id`.", refuse: () => "conversations are not served: continue with previous_response_id" },
  prompt: { treatment: "refused", note: "Stored prompt templates are not served.", refuse: () => "stored prompt templates are not served: send the input" },
  context_management: { treatment: "refused", note: "Not served.", refuse: (v) => (v.length > 0 ? "context management (compaction) is not served" : null) },
  access_programs: { treatment: "refused", note: "Not served.", refuse: () => "not served by LIMO" },
  image: { treatment: "refused", note: "Not served.", refuse: () => "LIMO produces no images" },
  moderation: { treatment: "refused", note: "Not served.", refuse: () => "moderation is not served by LIMO" },
  cache: { treatment: "mapped", note: "LIMO extension: the response cache's options, as on chat." },
  vote: { treatment: "mapped", note: "LIMO extension: majority voting over `n` samples; each sample is an output message, the vote is top-level." },
  tutor: { treatment: "mapped", note: "LIMO extension: tutor modes, as on chat (not with `background` or an Idempotency-Key)." },
};

/** The 400 for the first field this request sets that cannot be served, or null. */
export function responsesRefusal(request: ResponseCreateRequest): ApiError | null {
  return fieldRefusal(RESPONSES_FIELDS, request);
}

/** The README's table of the Responses fields (tests/node/responses-fields-table.test.ts keeps it equal to the rules). */
export function responsesFieldTableMarkdown(): string {
  return fieldTableRows(RESPONSES_FIELDS).join("\n");
}
