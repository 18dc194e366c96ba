/**
 * @module stored-responses-service
 * Stored responses (the account's response store): a response as it is now
 * (its end once known, else what its generation says), its stream resumed
 * after a sequence number, cancel, delete and input items, and the relay
 * that turns a chat stream into Responses events and keeps their end.
 */
import { GENERATION_RETENTION_SECONDS, type GenerationObject } from "../../shared/generations";
import type { InputMessageItem, ResponseObject } from "../../shared/openai-responses";
import { SseSplitter } from "../../shared/sse";
import { ApiError } from "../core/errors";
import type { Env } from "../env";
import { cancelGeneration, forgetGeneration, getGeneration, streamGeneration } from "../generations/durable-generation-service";
import { ResponseEventStreamer } from "./response-events";
import { fromGeneration, isTerminal, pendingResponse, type ResponseRecord } from "./response-object";
import { responseStore } from "./response-store-rpc";

/** How long a stored response is kept after it ended, in ms: as a generation. */
export const RESPONSE_RETENTION_MS = GENERATION_RETENTION_SECONDS * 1000;

export type StoreEnv = Pick<Env, "RESPONSES" | "GENERATIONS">;

export function notFound(id: string, param = "id"): ApiError {
  return new ApiError("not_found", `No response with id '${id}' (it may have expired, or was not stored).`, { param });
}

/** A stored response as it is now: its end once known, else what its generation says (kept once it ended). */
export async function current(env: StoreEnv, accountId: string, record: ResponseRecord): Promise<ResponseObject> {
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

/**
 * `DELETE /v1/responses/{id}`: forgets it (a follow-up can no longer continue
 * from it). A response still generating is cancelled first: nobody can read
 * it any more, so its GPU work stops and the ledger bills what was produced
 * (as `cancel`). Its generation's events go too, unless they are the cache's
 * (or a reader is still on them: then they expire as any generation's).
 */
export async function deleteResponse(env: StoreEnv, accountId: string, id: string): Promise<{ id: string; object: "response"; deleted: true }> {
  const record = await stored(env, accountId, id);
  if (record.generationId) {
    const generationId = record.generationId;
    if (!record.final) await cancelGeneration(env, accountId, generationId).catch(ignoreNotFound);
    await forgetGeneration(env, accountId, generationId).catch(ignoreNotFound);
  }
  if (!(await responseStore(env, accountId).remove(id))) throw notFound(id);
  return { id, object: "response", deleted: true };
}

/** A generation that is already gone (expired, forgotten) needs no cancelling or forgetting. */
function ignoreNotFound(err: unknown): void {
  if (!(err instanceof ApiError && err.code === "not_found")) throw err;
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
export function relay(
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
