/**
 * @module responses/client
 * A limited account's key against its simulator, calling the Responses API,
 * with a reconnect grace long enough that a test's own resume never races it.
 */
import type { ResponseObject } from "../../shared/openai-responses";
import type { Env } from "../../worker/env";
import { adminApi } from "../helpers/admin";
import { simBackends } from "../helpers/api";
import { limitedAccount, type LimitedAccount } from "../helpers/limits";
import { readEvents } from "../helpers/sse";

/** Far above the time a test takes to reconnect, in ms. */
const LONG_GRACE_MS = "30000";

export interface ResponsesClient {
  account: LimitedAccount;
  create(body: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>;
  get(path: string): Promise<Response>;
  post(path: string): Promise<Response>;
  delete(path: string): Promise<Response>;
}

export function responsesClient(account: LimitedAccount, overrides: Partial<Env> = { GENERATION_GRACE_MS: LONG_GRACE_MS }): ResponsesClient {
  const a = adminApi({ BACKENDS: simBackends(account.sim.url), ...overrides });
  return {
    account,
    create: (body, headers = {}) =>
      a.withKey(account.key, "/v1/responses", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "limo", ...body }),
      }),
    get: (path) => a.withKey(account.key, path),
    post: (path) => a.withKey(account.key, path, { method: "POST" }),
    delete: (path) => a.withKey(account.key, path, { method: "DELETE" }),
  };
}

/** A new account (its own simulator) and its Responses client. */
export async function newClient(overrides?: Partial<Env>): Promise<ResponsesClient> {
  return responsesClient(await limitedAccount(), overrides);
}

/** One Responses stream event. */
export interface StreamEvent {
  type: string;
  sequence_number: number;
  response?: ResponseObject;
  delta?: string;
  item_id?: string;
  output_index?: number;
  content_index?: number;
  [field: string]: unknown;
}

/** The events of a Responses stream, with the `event:` name each was framed with. */
export async function responseEvents(response: Response): Promise<{ events: StreamEvent[]; names: string[] }> {
  const read = await readEvents(response);
  const events = read.data.map((d) => JSON.parse(d) as StreamEvent);
  const names = read.raw.filter((r) => r.startsWith("event:")).map((r) => r.split("\n")[0]!.slice("event: ".length));
  return { events, names };
}
