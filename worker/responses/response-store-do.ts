/**
 * @module response-store-do
 * One Durable Object per account holding its stored responses (the Responses
 * API's `store: true`), in SQLite so they outlive any isolate. An alarm
 * forgets each response when its retention ends (as generations: a day after
 * it ended).
 */
import { DurableObject } from "cloudflare:workers";
import type { ResponseObject } from "../../shared/openai-responses";
import type { Env } from "../env";
import type { ResponseRecord } from "./response-object";
import type { ResponseStoreRpc } from "./response-store-rpc";
import { ResponseStorage } from "./response-storage";

export class ResponseStoreDO extends DurableObject<Env> implements ResponseStoreRpc {
  readonly #storage: ResponseStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#storage = new ResponseStorage(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => this.#storage.migrate());
  }

  async put(record: ResponseRecord, expiresAt: number): Promise<void> {
    this.#storage.put(record, expiresAt);
    await this.#scheduleAlarm(expiresAt);
  }

  async get(id: string): Promise<ResponseRecord | null> {
    return this.#storage.get(id, Date.now());
  }

  async chain(id: string, maxTurns: number): Promise<ResponseRecord[] | null> {
    const now = Date.now();
    const turns: ResponseRecord[] = [];
    for (let next: string | null = id; next !== null; ) {
      if (turns.length >= maxTurns) return null;
      const record = this.#storage.get(next, now);
      if (!record) return null;
      turns.push(record);
      next = record.previousResponseId;
    }
    return turns.reverse();
  }

  async finish(id: string, final: ResponseObject, retainMs: number): Promise<boolean> {
    const record = this.#storage.get(id, Date.now());
    if (!record) return false;
    const expiresAt = Date.now() + retainMs;
    this.#storage.put({ ...record, final }, expiresAt);
    await this.#scheduleAlarm(expiresAt);
    return true;
  }

  async remove(id: string): Promise<boolean> {
    return this.#storage.remove(id);
  }

  override async alarm(): Promise<void> {
    const next = this.#storage.prune(Date.now());
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  /** The alarm fires at the earliest expiry. */
  async #scheduleAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }
}
