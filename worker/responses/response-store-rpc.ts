/**
 * @module response-store-rpc
 * The response store's contract: one Durable Object per account
 * (`idFromName(accountId)`) keeps that account's stored responses (`resp_…`),
 * so another account's id is simply not there. `Env.RESPONSES` is typed by
 * this interface; callers name this module, never the object's class.
 */
import type { ResponseObject } from "../../shared/openai-responses";
import type { ResponseRecord } from "./response-object";

export interface ResponseStoreRpc extends Rpc.DurableObjectBranded {
  /** Stores (or replaces) a response, kept until `expiresAt` (Unix ms). */
  put(record: ResponseRecord, expiresAt: number): Promise<void>;
  /** The stored response, or null (never stored, deleted or expired). */
  get(id: string): Promise<ResponseRecord | null>;
  /**
   * The chain that ends with `id`, oldest first (following `previousResponseId`),
   * at most `maxTurns` long; null when a link is missing.
   */
  chain(id: string, maxTurns: number): Promise<ResponseRecord[] | null>;
  /** Records how a stored response ended (kept `retainMs` from now); false when it is not stored. */
  finish(id: string, final: ResponseObject, retainMs: number): Promise<boolean>;
  /** Forgets a response; false when it was not stored. */
  remove(id: string): Promise<boolean>;
}

export interface ResponsesBinding {
  RESPONSES: DurableObjectNamespace<ResponseStoreRpc>;
}

/** The stub of an account's response store. */
export function responseStore(env: ResponsesBinding, accountId: string): DurableObjectStub<ResponseStoreRpc> {
  return env.RESPONSES.get(env.RESPONSES.idFromName(accountId));
}
