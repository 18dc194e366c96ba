/**
 * @module openai-fields
 * What LIMO does with every field of OpenAI's chat completions and legacy
 * completions request schemas: **served** (sent to vLLM as it is),
 * **mapped** (the Worker turns it into something else), **no effect**
 * (accepted and dropped: nothing would change if we honoured it, or there is
 * nothing to honour), or **refused** with a 400 naming the field and why,
 * where serving it would mislead. One table per endpoint, typed by the zod
 * schemas of shared/openai.ts (a field added there without a rule here does
 * not compile); the validation (`fieldRefusal`), the backend body
 * (`BACKEND_FIELDS`) and the README's table (`fieldTableMarkdown`, checked by
 * tests/unit/openai-fields.test.ts) are all read from it.
 */
import { MAX_CHOICES_N } from "../../shared/constants";
import type { ChatCompletionRequest, ChatMessage, CompletionRequest } from "../../shared/openai";
import { ApiError } from "../core/errors";

export type FieldTreatment = "served" | "mapped" | "no effect" | "refused";

/** A refusal: the reason, and the parameter when it is deeper than the field (`messages[2].tool_calls`). */
export type Refusal = string | { param: string; reason: string } | null;

export interface FieldRule<R> {
  treatment: FieldTreatment;
  /** What happens to it, for the README. */
  note: string;
  /** Why this (non-null) value is refused, or null to accept it. A `refused` row refuses every value it has. */
  refuse?: (value: never, request: R) => Refusal;
}

/** A request schema's field rules, one per field (exported for the Responses API's table). */
export type FieldTable<R> = Table<R>;

type Table<R> = { [K in keyof R]-?: FieldRule<R> & { refuse?: (value: NonNullable<R[K]>, request: R) => Refusal } };

const TOOLS_REASON = "LIMO calls no tools: it answers in text";

/** Rules of the fields both endpoints share (shared/openai.ts `samplingFields`). */
const samplingRules = {
  model: { treatment: "mapped", note: "`limo`, `limo-v2` or a catalogue alias, resolved to the served model's name." },
  max_tokens: { treatment: "mapped", note: "Clamped to what the 32,768-token context leaves; unset means all of it (LIMO's answers are long)." },
  temperature: { treatment: "served", note: "LIMO's default 0.7 when unset." },
  top_p: { treatment: "served", note: "LIMO's default 0.95 when unset." },
  top_k: { treatment: "served", note: "vLLM extension." },
  min_p: { treatment: "served", note: "vLLM extension." },
  n: { treatment: "served", note: `Up to ${MAX_CHOICES_N}; more is a 400 (each choice is a full reasoning sequence).` },
  stop: { treatment: "served", note: "Up to 16 sequences (OpenAI allows 4)." },
  seed: { treatment: "served", note: "Also makes the request cacheable." },
  presence_penalty: { treatment: "served", note: "" },
  frequency_penalty: { treatment: "served", note: "" },
  repetition_penalty: { treatment: "served", note: "vLLM extension." },
  logit_bias: { treatment: "served", note: "Token ids of LIMO's (Qwen2.5) tokenizer, biases -100 to 100." },
  stream: { treatment: "mapped", note: "The backend always streams; a non-streaming answer is assembled by the Worker." },
  stream_options: {
    treatment: "mapped",
    note: "`include_usage` honoured; `include_obfuscation` accepted with no effect (no obfuscation padding is sent).",
  },
  user: { treatment: "mapped", note: "The end user, kept by LIMO (ledger, per-end-user limits); never sent to the backend nor part of the cache key." },
  safety_identifier: { treatment: "mapped", note: "As `user` (OpenAI's replacement for it), up to 64 characters." },
  background: { treatment: "mapped", note: "LIMO extension: run as a durable generation (`/v1/generations`)." },
  cache: { treatment: "mapped", note: "LIMO extension: the response cache's options." },
  vote: { treatment: "mapped", note: "LIMO extension: majority voting over the choices by answer equivalence (sets `n`; see Answers for tutors)." },
} as const;

/** The messages' own fields, for the README (checked in `messageRefusal`, dropped in prepare.ts). */
export const MESSAGE_FIELD_RULES: readonly { field: string; treatment: FieldTreatment; note: string }[] = [
  { field: "role `developer`", treatment: "mapped", note: "Sent as `system`; as with `system`, LIMO's default system prompt is then not added." },
  { field: "role `tool`, `function`", treatment: "refused", note: TOOLS_REASON + "." },
  { field: "`name`", treatment: "served", note: "Kept." },
  { field: "text parts' `prompt_cache_breakpoint`", treatment: "no effect", note: "vLLM caches prefixes by itself." },
  { field: "`image_url`, `input_audio`, `file` parts", treatment: "refused", note: "LIMO reads text only." },
  { field: "assistant `content: null`", treatment: "refused", note: "A 400: with no tool calls there is nothing to send back." },
  { field: "assistant `refusal`, `annotations`, `parsed`", treatment: "no effect", note: "Output-only fields a stored answer carries; dropped." },
  { field: "assistant refusal parts", treatment: "no effect", note: "Dropped; the text parts are kept." },
  {
    field: "assistant `reasoning_content`, `reasoning`",
    treatment: "no effect",
    note: "Dropped: LIMO's own answers carry their reasoning in `content`, which is sent back.",
  },
  { field: "assistant `audio: null`, `function_call: null`, `tool_calls: []`", treatment: "no effect", note: "Dropped; a non-empty one is refused (LIMO calls no tools, speaks no audio)." },
];

/** Why a message cannot be served, or null. */
function messageRefusal(messages: ChatMessage[]): Refusal {
  for (const [i, m] of messages.entries()) {
    const at = `messages[${i}]`;
    switch (m.role) {
      case "tool":
      case "function":
        return { param: `${at}.role`, reason: `${TOOLS_REASON}, so a ${m.role} result has no call to answer` };
      case "user":
        if (typeof m.content === "string") break;
        for (const [j, part] of m.content.entries()) {
          if (part.type !== "text") return { param: `${at}.content[${j}]`, reason: `LIMO reads text only: '${part.type}' parts cannot be served` };
        }
        break;
      case "assistant":
        if (m.tool_calls?.length) return { param: `${at}.tool_calls`, reason: TOOLS_REASON };
        if (m.function_call) return { param: `${at}.function_call`, reason: TOOLS_REASON };
        if (m.audio) return { param: `${at}.audio`, reason: "LIMO does not answer in audio, so there is no audio answer to refer to" };
        break;
    }
  }
  return null;
}

export const CHAT_FIELDS: Table<ChatCompletionRequest> = {
  ...samplingRules,
  messages: { treatment: "mapped", note: "See the message fields below.", refuse: messageRefusal },
  tutor: {
    treatment: "mapped",
    note: "LIMO extension: tutor modes (`hint`, `check`) whose output never contains the reference answer (see Tutor modes).",
  },
  max_completion_tokens: { treatment: "mapped", note: "As `max_tokens` (it wins when both are set)." },
  logprobs: { treatment: "served", note: "" },
  top_logprobs: { treatment: "served", note: "Needs `logprobs: true`." },
  response_format: {
    treatment: "served",
    note: "`text`, `json_object`, `json_schema` passed to vLLM's structured outputs; part of the cache key. Forcing JSON can cost LIMO accuracy.",
  },
  store: { treatment: "no effect", note: "Nothing is stored for OpenAI's stored-completions API; LIMO keeps its own usage ledger." },
  metadata: { treatment: "no effect", note: "Not stored (it belongs to `store`)." },
  service_tier: { treatment: "no effect", note: "One tier; answers carry no `service_tier`." },
  verbosity: { treatment: "no effect", note: "LIMO has no verbosity control." },
  reasoning_effort: { treatment: "no effect", note: "LIMO has no effort control: it reasons until it is done or `max_tokens` ends it." },
  parallel_tool_calls: { treatment: "no effect", note: "No tools are called." },
  prompt_cache_key: {
    treatment: "no effect",
    note: "Not a routing hint: vLLM's prefix cache already reuses a shared system prompt, and no measurement here shows affinity helping.",
  },
  prompt_cache_options: { treatment: "no effect", note: "vLLM caches prefixes by itself." },
  prompt_cache_retention: { treatment: "no effect", note: "vLLM caches prefixes by itself." },
  modalities: {
    treatment: "no effect",
    note: "`[\"text\"]` accepted (LIMO answers in text); anything with `audio` is refused.",
    refuse: (v) => (v.some((m) => m !== "text") ? "LIMO answers in text only" : null),
  },
  tools: {
    treatment: "refused",
    note: "Refused unless `tool_choice` is `none` (then dropped).",
    refuse: (v, r) => (v.length > 0 && r.tool_choice !== "none" ? `${TOOLS_REASON}; send tool_choice: "none" or no tools` : null),
  },
  tool_choice: {
    treatment: "refused",
    note: "`none` accepted with no effect; anything else refused.",
    refuse: (v) => (v === "none" ? null : TOOLS_REASON),
  },
  functions: {
    treatment: "refused",
    note: "Deprecated `tools`: refused unless `function_call` is `none`.",
    refuse: (v, r) => (v.length > 0 && r.function_call !== "none" ? TOOLS_REASON : null),
  },
  function_call: {
    treatment: "refused",
    note: "`none` accepted with no effect; anything else refused.",
    refuse: (v) => (v === "none" ? null : TOOLS_REASON),
  },
  audio: { treatment: "refused", note: "No audio output.", refuse: () => "LIMO answers in text only" },
  prediction: {
    treatment: "refused",
    note: "vLLM serves no predicted outputs.",
    refuse: () => "predicted outputs are not served by LIMO's backend (vLLM)",
  },
  web_search_options: { treatment: "refused", note: "No web search.", refuse: () => "LIMO does not search the web" },
  moderation: {
    treatment: "refused",
    note: "No moderation is run; accepting it would claim one was.",
    refuse: () => "LIMO runs no moderation on requests or answers",
  },
};

export const COMPLETION_FIELDS: Table<CompletionRequest> = {
  ...samplingRules,
  prompt: {
    treatment: "mapped",
    note: "One text prompt (a string, or an array of one); batches and token ids are refused.",
    refuse: (v) => {
      if (typeof v === "string") return null;
      if (v.length > 1) return "one prompt a request: each request is metered, cached and streamed as one generation";
      return typeof v[0] === "string" ? null : "LIMO's API takes text prompts, not token ids";
    },
  },
  logprobs: { treatment: "served", note: "0 to 5." },
  echo: {
    treatment: "refused",
    note: "`false` accepted; `true` refused: the Worker does not put the prompt back in the answer (nor bill for it).",
    refuse: (v) => (v ? "LIMO's API does not echo the prompt back in the answer" : null),
  },
  best_of: {
    treatment: "refused",
    note: "Accepted when equal to `n` (no effect); otherwise refused: vLLM's V1 engine dropped `best_of`, it would be silently ignored.",
    refuse: (v, r) => (v === (r.n ?? 1) ? null : "vLLM no longer serves best_of (its V1 engine dropped it); ask for n choices instead"),
  },
  suffix: {
    treatment: "refused",
    note: "Empty accepted; text refused: vLLM does not serve insertion (suffix) completions.",
    refuse: (v) => (v === "" ? null : "vLLM does not serve suffix (insertion) completions"),
  },
};

/** The fields copied to the backend body as the client sent them. */
export function backendFields<R>(table: Table<R>): ReadonlySet<string> {
  return new Set(Object.entries<FieldRule<R>>(table).filter(([, rule]) => rule.treatment === "served").map(([field]) => field));
}

/** The 400 for the first field this request sets that cannot be served, or null. */
export function fieldRefusal<R extends object>(table: Table<R>, request: R): ApiError | null {
  for (const [field, value] of Object.entries(request)) {
    const rule = (table as Record<string, FieldRule<R> | undefined>)[field];
    if (value === null || value === undefined || !rule?.refuse) continue;
    const refusal = (rule.refuse as (v: unknown, r: R) => Refusal)(value, request);
    if (refusal === null) continue;
    const { param, reason } = typeof refusal === "string" ? { param: field, reason: refusal } : refusal;
    return new ApiError("unsupported_parameter", `'${param}' is not supported: ${reason}.`, { param });
  }
  return null;
}

const cell = (text: string) => text.replaceAll("|", "\\|");
const head = ["| field | treatment | what LIMO does |", "| --- | --- | --- |"];

/** One field table in markdown, its header included: a row per field, its treatment and note. */
export function fieldTableRows<R>(table: Table<R>): string[] {
  return [...head, ...Object.entries(table as Record<string, FieldRule<R>>).map(([field, rule]) => `| \`${field}\` | ${rule.treatment} | ${cell(rule.note)} |`)];
}

/** The README's field tables (markdown), generated so they cannot drift from the rules. */
export function fieldTableMarkdown(): string {
  return [
    "`POST /v1/chat/completions`:",
    "",
    ...fieldTableRows(CHAT_FIELDS),
    "",
    "Chat messages:",
    "",
    ...head,
    ...MESSAGE_FIELD_RULES.map((r) => `| ${r.field} | ${r.treatment} | ${cell(r.note)} |`),
    "",
    "`POST /v1/completions`:",
    "",
    ...fieldTableRows(COMPLETION_FIELDS),
  ].join("\n");
}
