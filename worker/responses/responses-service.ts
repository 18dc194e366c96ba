/**
 * @module responses-service
 * The Responses API on top of chat completions: a request becomes the chat
 * request the existing pipeline runs (completion-service: LIMO's defaults,
 * the context clamp, one admission call, the cache and coalescing,
 * Idempotency-Key, durable generations; tutor-service for `tutor`), and its
 * chat answer, stream or generation becomes the response object or the
 * Responses events. Stored responses (the account's response store) keep the
 * request, the input and how it ended; while one is running, its generation
 * object is the truth (polling, resumes, cancel).
 */
import { GENERATION_RETENTION_SECONDS, type GenerationObject } from "../../shared/generations";
import type { InputMessageItem, ResponseCreateRequest, ResponseObject } from "../../shared/openai-responses";
import type { CatalogueModel } from "../../shared/constants";
import type { Credential } from "../accounts/principal";
import { canonicalJson, sha256Hex } from "../core/canonical-json";
import { ApiError } from "../core/errors";
import { log } from "../core/log";
import { SSE_HEADERS } from "../core/sse-headers";
import type { Env } from "../env";
import { createCompletion } from "../generations/completion-service";
import { cancelGeneration, forgetGeneration, getGeneration, streamGeneration } from "../generations/durable-generation-service";
import { prepareChat } from "../generations/prepare";
import { applyVote } from "../generations/voting";
import type { Deployment } from "../routing/catalogue";
import { createTutorCompletion } from "../tutoring/tutor-service";
import { SseSplitter } from "../../shared/sse";
import { ResponseEventStreamer } from "./response-events";
import { completedResponse, fromGeneration, isTerminal, outputTextOf, pendingResponse, type ChatAnswer, type ResponseRecord } from "./response-object";
import { responseStore } from "./response-store-rpc";
import { responsesRefusal } from "./responses-fields";
import { historyMessages, inputItems, toChatRequest, type Turn } from "./to-chat-request";

/** How long a stored response is kept after it ended, in ms: as a generation. */
export const RESPONSE_RETENTION_MS = GENERATION_RETENTION_SECONDS * 1000;
/** The longest `previous_response_id` chain followed (the context window ends a real one far sooner). */
export const MAX_CHAIN_TURNS = 256;

/** Headers of the inner chat answer that do not describe the response. */
const INNER_ONLY_HEADERS = new Set(["content-type", "content-length"]);

export interface ResponseAsk {
  requestId: string;
  credential: Credential;
  deployment: Deployment;
  model: CatalogueModel;
  request: ResponseCreateRequest;
  systemPrompt?: string;
  cacheControl: string | undefined;
  /** The `Idempotency-Key` header, already checked. */
  idempotencyKey?: string;
  admittedAt: number;
  clientSignal: AbortSignal;
  waitUntil: (promise: Promise<unknown>) => void;
}

type StoreEnv = Pick<Env, "RESPONSES" | "GENERATIONS">;

/** `POST /v1/responses`. */
export async function createResponse(env: Env, ask: ResponseAsk): Promise<Response> {
  const { request } = ask;
  const refused = responsesRefusal(request);
  if (refused) throw refused;
  const store = request.store !== false;
  if (request.background && !store) {
    throw new ApiError("invalid_value", "A background response must be stored: 'background' needs 'store' true (the default).", { param: "store" });
  }
  if (request.tutor && request.background) {
    throw new ApiError("invalid_value", "'tutor' cannot run in the background.", { param: "background" });
  }
  if (request.tutor && ask.idempotencyKey !== undefined) {
    throw new ApiError("invalid_value", "Idempotency-Key cannot be used with 'tutor'.", { param: "Idempotency-Key" });
  }
  const accountId = ask.credential.accountId;
  const id = await responseId(accountId, ask.idempotencyKey);
  const items = inputItems(id, await resolveReferences(env, accountId, request.input));
  const history = request.previous_response_id ? await chainHistory(env, accountId, request.previous_response_id) : [];
  const chat = applyVote(toChatRequest(request, items, history));
  // Refusals and the context clamp, before anything is admitted: free.
  const prepared = { ...prepareChat(chat, ask.model, ask.systemPrompt), ledgerEndpoint: "responses" as const };
  const record = newRecord(id, request, items, Math.floor(ask.admittedAt / 1000), store);

  const inner = request.tutor
    ? await createTutorCompletion(env, { ...common(ask), model: ask.model, request: chat, systemPrompt: ask.systemPrompt, endpoint: "responses" })
    : await createCompletion(env, {
        ...common(ask),
        prepared,
        request: chat,
        idempotency: ask.idempotencyKey
          ? { key: ask.idempotencyKey, fingerprint: await sha256Hex(canonicalJson({ path: "/v1/responses", request })) }
          : undefined,
      });
  const headers = outerHeaders(inner);
  record.generationId = inner.headers.get("x-generation-id");

  if (inner.status === 202) {
    // Background: the generation object runs on; the response is stored before it is answered.
    await responseStore(env, accountId).put(record, ask.admittedAt + RESPONSE_RETENTION_MS);
    if (request.stream !== true) return Response.json(fromGeneration(record, (await inner.json()) as GenerationObject), { headers });
    const events = await streamGeneration(env, accountId, record.generationId!, undefined);
    return new Response(relay(env, accountId, record, events, -1, ask.waitUntil), { headers: { ...SSE_HEADERS, ...headers } });
  }
  if (request.stream === true) {
    if (store) {
      try {
        await responseStore(env, accountId).put(record, ask.admittedAt + RESPONSE_RETENTION_MS);
      } catch (err) {
        // Nobody will read the stream: its generation learns the client is gone (and bills what it produced).
        await inner.body?.cancel().catch(() => {});
        throw err;
      }
    }
    return new Response(relay(env, accountId, record, inner.body!, -1, ask.waitUntil), { headers: { ...SSE_HEADERS, ...headers } });
  }
  const final = completedResponse(record, (await inner.json()) as ChatAnswer, Math.floor(Date.now() / 1000));
  if (store) {
    // The answer is billed already: a store that fails loses the stored copy, never the client's answer.
    await responseStore(env, accountId)
      .put({ ...record, final }, Date.now() + RESPONSE_RETENTION_MS)
      .catch((err: unknown) => log("error", "storing a response failed", { requestId: ask.requestId, error: String(err) }));
  }
  return Response.json(final, { headers });
}

function common(ask: ResponseAsk) {
  return {
    requestId: ask.requestId,
    credential: ask.credential,
    deployment: ask.deployment,
    cacheControl: ask.cacheControl,
    admittedAt: ask.admittedAt,
    clientSignal: ask.clientSignal,
    waitUntil: ask.waitUntil,
  };
}

/** `resp_` and 32 hex digits: random, or (with an Idempotency-Key) the same for every retry of the request. */
async function responseId(accountId: string, idempotencyKey: string | undefined): Promise<string> {
  if (idempotencyKey === undefined) return `resp_${crypto.randomUUID().replaceAll("-", "")}`;
  return `resp_${(await sha256Hex(`${accountId}\n${idempotencyKey}`)).slice(0, 32)}`;
}

function newRecord(id: string, request: ResponseCreateRequest, input: InputMessageItem[], createdAt: number, store: boolean): ResponseRecord {
  return {
    id,
    createdAt,
    model: request.model,
    generationId: null,
    background: request.background === true,
    store,
    instructions: request.instructions ?? null,
    maxOutputTokens: request.max_output_tokens ?? null,
    temperature: request.temperature ?? null,
    topP: request.top_p ?? null,
    metadata: request.metadata ?? {},
    previousResponseId: request.previous_response_id ?? null,
    user: request.user ?? null,
    safetyIdentifier: request.safety_identifier ?? null,
    reasoningEffort: request.reasoning?.effort ?? null,
    input,
    final: null,
  };
}

function outerHeaders(inner: Response): Record<string, string> {
  const out: Record<string, string> = {};
  inner.headers.forEach((value, name) => {
    if (!INNER_ONLY_HEADERS.has(name)) out[name] = value;
  });
  return out;
}

/**
 * The input with each `item_reference` replaced by the stored item it names
 * (`msg_<response>_<n>`: an output message; `msg_<response>_in<i>`: an input
 * item), read from this account's store: another account's is not there.
 */
async function resolveReferences(env: StoreEnv, accountId: string, input: ResponseCreateRequest["input"]): Promise<ResponseCreateRequest["input"]> {
  if (typeof input === "string" || !input.some((item) => item.type === "item_reference")) return input;
  const responses = new Map<string, ResponseObject & { inputItems: InputMessageItem[] }>();
  const resolved: Exclude<ResponseCreateRequest["input"], string> = [];
  for (const [i, item] of input.entries()) {
    if (item.type !== "item_reference") {
      resolved.push(item);
      continue;
    }
    const param = `input[${i}].id`;
    const ref = String(item.id);
    const missing = new ApiError("not_found", `No stored item with id '${ref}' (its response may have expired, or was not stored).`, { param });
    const match = /^msg_([0-9a-f]{32})_(in)?(\d{1,4})$/.exec(ref);
    if (!match) throw missing;
    const responseId = `resp_${match[1]}`;
    let response = responses.get(responseId);
    if (!response) {
      const record = await responseStore(env, accountId).get(responseId);
      if (!record) throw missing;
      response = { ...(await current(env, accountId, record)), inputItems: record.input };
      responses.set(responseId, response);
    }
    if (match[2]) {
      const stored = response.inputItems.find((x) => x.id === ref);
      if (!stored) throw missing;
      resolved.push({ type: "message", role: stored.role, content: stored.content.map((p) => (p.type === "input_text" ? p : { type: "output_text" as const, text: p.text })) });
      continue;
    }
    const output = response.output.find((x) => x.id === ref);
    if (!output) {
      if (!isTerminal(response.status)) throw new ApiError("invalid_value", `Item '${ref}' belongs to a response still ${response.status}.`, { param });
      throw missing;
    }
    resolved.push({ type: "message", role: "assistant", content: output.content.map((p) => ({ type: "output_text" as const, text: p.text })) });
  }
  return resolved;
}

/** The conversation a follow-up continues: every stored turn's input and answer, oldest first. */
async function chainHistory(env: StoreEnv, accountId: string, previousId: string) {
  const chain = await responseStore(env, accountId).chain(previousId, MAX_CHAIN_TURNS);
  if (!chain) throw notFound(previousId, "previous_response_id");
  const turns: Turn[] = [];
  for (const record of chain) {
    const response = await current(env, accountId, record);
    if (!isTerminal(response.status)) {
      throw new ApiError("invalid_value", `Response '${record.id}' is still ${response.status}: continue it once it has ended.`, { param: "previous_response_id" });
    }
    turns.push({ input: record.input, output: outputTextOf(response) });
  }
  return historyMessages(turns);
}

function notFound(id: string, param = "id"): ApiError {
  return new ApiError("not_found", `No response with id '${id}' (it may have expired, or was not stored).`, { param });
}

/** A stored response as it is now: its end once known, else what its generation says (kept once it ended). */
async function current(env: StoreEnv, accountId: string, record: ResponseRecord): Promise<ResponseObject> {
  if (record.final) return record.final;
  if (!record.generationId) return pendingResponse(record, "in_progress");
  let generation: GenerationObject;
  try {
    generation = await getGeneration(env, accountId, record.generationId);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === "not_found")) throw err;
    // The generation is gone (expired, or replaced by a refresh) before its end was stored.
    generation = { id: record.generationId, object: "generation", status: "failed", created_at: record.createdAt, completed_at: null, expires_at: null, model: record.model, result: null, error: { code: "backend_error", message: "The generation is no longer available." } };
  }
  const response = fromGeneration(record, generation);
  if (isTerminal(response.status)) await responseStore(env, accountId).finish(record.id, response, RESPONSE_RETENTION_MS);
  return response;
}

async function stored(env: StoreEnv, accountId: string, id: string): Promise<ResponseRecord> {
  if (!/^resp_[0-9a-f]{32}$/.test(id)) throw notFound(id);
  const record = await responseStore(env, accountId).get(id);
  if (!record) throw notFound(id);
  return record;
}

/** `GET /v1/responses/{id}`. */
export async function getResponse(env: StoreEnv, accountId: string, id: string): Promise<ResponseObject> {
  return current(env, accountId, await stored(env, accountId, id));
}

/**
 * `GET /v1/responses/{id}?stream=true&starting_after=N`: the events after
 * sequence number N. A response with a generation is re-read from its start
 * (the numbering is the same every time); one without (answered as JSON) is
 * replayed from its stored end.
 */
export async function streamResponse(
  env: Pick<Env, "RESPONSES" | "GENERATIONS" | "GENERATION_GRACE_MS">,
  accountId: string,
  id: string,
  startingAfter: number,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<ReadableStream<Uint8Array>> {
  const record = await stored(env, accountId, id);
  if (record.generationId) {
    try {
      const events = await streamGeneration(env, accountId, record.generationId, undefined);
      return relay(env, accountId, record, events, startingAfter, waitUntil);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === "not_found") || !record.final) throw err;
    }
  }
  const final = await current(env, accountId, record);
  const streamer = new ResponseEventStreamer(record, startingAfter, () => final.completed_at ?? record.createdAt);
  return new Response(streamer.start() + replayEvents(final).map((e) => streamer.push(e)).join("")).body!;
}

/** A finished response as the chat events it adds up to (one delta per output message). */
function replayEvents(response: ResponseObject): string[] {
  const events: string[] = [];
  for (const [index, item] of response.output.entries()) {
    const text = item.content[0]?.text ?? "";
    events.push(`data: ${JSON.stringify({ choices: [{ index, delta: { content: text } }] })}`);
    const finish = item.status === "incomplete" ? "length" : "stop";
    events.push(`data: ${JSON.stringify({ choices: [{ index, delta: {}, finish_reason: finish, final_answer: index === 0 ? response.final_answer : null }] })}`);
  }
  if (response.status === "failed" || response.status === "cancelled") {
    const error = response.status === "cancelled" ? { code: "generation_cancelled", message: "The generation was cancelled before it completed." } : (response.error ?? { code: "backend_error", message: "The model backend failed." });
    events.push(`data: ${JSON.stringify({ error })}`);
    return events;
  }
  if (response.usage) {
    const u = response.usage;
    events.push(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens, total_tokens: u.total_tokens } })}`);
  }
  if (response.vote !== undefined) events.push(`data: ${JSON.stringify({ choices: [], vote: response.vote })}`);
  events.push("data: [DONE]");
  return events;
}

/** `POST /v1/responses/{id}/cancel`: stops its generation (and the GPU work); an ended response is answered as it ended. */
export async function cancelResponse(env: StoreEnv, accountId: string, id: string): Promise<ResponseObject> {
  const record = await stored(env, accountId, id);
  if (record.final || !record.generationId) return current(env, accountId, record);
  const generation = await cancelGeneration(env, accountId, record.generationId);
  const response = fromGeneration(record, generation);
  if (isTerminal(response.status)) await responseStore(env, accountId).finish(record.id, response, RESPONSE_RETENTION_MS);
  return response;
}

/** `DELETE /v1/responses/{id}`: forgets it (a follow-up can no longer continue from it). */
export async function deleteResponse(env: StoreEnv, accountId: string, id: string): Promise<{ id: string; object: "response"; deleted: true }> {
  if (!/^resp_[0-9a-f]{32}$/.test(id) || !(await responseStore(env, accountId).remove(id))) throw notFound(id);
  return { id, object: "response", deleted: true };
}

export interface InputItemsPage {
  object: "list";
  data: InputMessageItem[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** `GET /v1/responses/{id}/input_items`: this turn's input items (OpenAI's default order: newest first). */
export async function listInputItems(
  env: StoreEnv,
  accountId: string,
  id: string,
  query: { limit?: number; order?: "asc" | "desc"; after?: string; before?: string },
): Promise<InputItemsPage> {
  const record = await stored(env, accountId, id);
  let items = query.order === "asc" ? [...record.input] : [...record.input].reverse();
  if (query.after !== undefined) {
    const at = items.findIndex((i) => i.id === query.after);
    items = at === -1 ? [] : items.slice(at + 1);
  }
  if (query.before !== undefined) {
    const at = items.findIndex((i) => i.id === query.before);
    items = at === -1 ? [] : items.slice(0, at);
  }
  const limit = query.limit ?? 20;
  const data = items.slice(0, limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: items.length > limit };
}

/**
 * The Responses events for a chat stream. A client that leaves cancels the
 * chat stream (so its generation knows, as on chat); a stored response's
 * end is kept once the stream has it.
 */
function relay(
  env: StoreEnv,
  accountId: string,
  record: ResponseRecord,
  upstream: ReadableStream<Uint8Array>,
  startingAfter: number,
  waitUntil: (promise: Promise<unknown>) => void,
): ReadableStream<Uint8Array> {
  // A resume says the time the stored end says, so its events are the ones the first reader got.
  const streamer = new ResponseEventStreamer(record, startingAfter, () => record.final?.completed_at ?? Math.floor(Date.now() / 1000));
  const reader = upstream.getReader();
  const splitter = new SseSplitter();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let started = false;
  let kept = false;
  const keep = () => {
    const final = streamer.final;
    if (kept || !final || record.final) return;
    kept = true;
    if (record.store) waitUntil(responseStore(env, accountId).finish(record.id, final, RESPONSE_RETENTION_MS).catch(() => {}));
  };
  // `store: false`: once the stream has ended, its generation's events are deleted too (a cached one stays the cache's).
  const forget = () => {
    if (!record.store && record.generationId) waitUntil(forgetGeneration(env, accountId, record.generationId).catch(() => false));
  };
  return new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        if (!started) {
          started = true;
          const opening = streamer.start();
          if (opening) return controller.enqueue(encoder.encode(opening));
        }
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch {
            chunk = { done: true, value: undefined };
          }
          if (chunk.done) {
            const rest = splitter.rest.trim() ? streamer.push(splitter.rest) : "";
            const out = rest + streamer.broken();
            if (out) controller.enqueue(encoder.encode(out));
            keep();
            controller.close();
            forget();
            return;
          }
          const out = splitter.push(decoder.decode(chunk.value, { stream: true })).map((e) => streamer.push(e)).join("");
          keep();
          if (out) return controller.enqueue(encoder.encode(out));
        }
      },
      cancel: async (reason) => {
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
