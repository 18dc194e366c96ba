/**
 * @module responses-service
 * `POST /v1/responses` on top of chat completions: the request becomes the
 * chat request the existing pipeline runs (completion-service: LIMO's
 * defaults, the context clamp, one admission call, the cache and coalescing,
 * Idempotency-Key, durable generations; tutor-service for `tutor`), with the
 * history of its `previous_response_id` chain and its `item_reference`s
 * resolved from the account's store; the chat answer, stream or generation
 * then becomes the response object or the Responses events
 * (stored-responses-service).
 */
import type { CatalogueModel } from "../../shared/constants";
import type { GenerationObject } from "../../shared/generations";
import type { InputMessageItem, ResponseCreateRequest, ResponseObject } from "../../shared/openai-responses";
import type { Credential } from "../accounts/principal";
import { canonicalJson, sha256Hex } from "../core/canonical-json";
import { ApiError } from "../core/errors";
import { log } from "../core/log";
import { SSE_HEADERS } from "../core/sse-headers";
import type { Env } from "../env";
import { createCompletion } from "../generations/completion-service";
import { streamGeneration } from "../generations/durable-generation-service";
import { prepareChat } from "../generations/prepare";
import { applyVote } from "../generations/voting";
import type { Deployment } from "../routing/catalogue";
import { createTutorCompletion } from "../tutoring/tutor-service";
import { completedResponse, fromGeneration, isTerminal, outputTextOf, type ChatAnswer, type ResponseRecord } from "./response-object";
import { responseStore } from "./response-store-rpc";
import { responsesRefusal } from "./responses-fields";
import { current, notFound, relay, RESPONSE_RETENTION_MS, type StoreEnv } from "./stored-responses-service";
import { historyMessages, inputItems, toChatRequest, type Turn } from "./to-chat-request";

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
  const prepared = { ...inResponsesTerms(() => prepareChat(chat, ask.model, ask.systemPrompt)), ledgerEndpoint: "responses" as const };
  const record = newRecord(id, request, items, Math.floor(ask.admittedAt / 1000), store);
  const idempotency = ask.idempotencyKey
    ? { key: ask.idempotencyKey, fingerprint: await sha256Hex(canonicalJson({ path: "/v1/responses", request })) }
    : undefined;

  const inner = await inResponsesTerms(() => request.tutor
    ? createTutorCompletion(env, { ...common(ask), model: ask.model, request: chat, systemPrompt: ask.systemPrompt, endpoint: "responses" })
    : createCompletion(env, { ...common(ask), prepared, request: chat, idempotency }));
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

/** The chat parameters an error of the chat pipeline names, as the Responses request spells them. */
const RESPONSES_PARAMS: readonly [RegExp, string][] = [
  [/^messages.*/, "input"],
  [/^max_(completion_)?tokens$/, "max_output_tokens"],
];

/** Runs a step of the chat pipeline; its refusal names the Responses field (`input`, not `messages`). */
function inResponsesTerms<T>(step: () => T): T {
  const rename = (err: unknown) => {
    if (!(err instanceof ApiError) || err.param === null) return err;
    const rule = RESPONSES_PARAMS.find(([pattern]) => pattern.test(err.param!));
    if (!rule) return err;
    return new ApiError(err.code, err.message, { param: err.param.replace(rule[0], rule[1]), headers: err.headers, internal: err.internal });
  };
  try {
    const result = step();
    return (result instanceof Promise ? result.catch((err: unknown) => Promise.reject(rename(err))) : result) as T;
  } catch (err) {
    throw rename(err);
  }
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
