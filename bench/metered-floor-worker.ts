/**
 * @module metered-floor-worker
 * The metered floor of `npm run bench`: the passthrough of
 * passthrough-worker.ts plus the least an exactly metered gateway must do per
 * request: one Durable Object RPC that writes one ledger-record-sized row to
 * the object's SQLite (an `INSERT` into a table shaped like the gateway's
 * ledger), awaited before the request is forwarded. Exact per-request limits
 * and an exact ledger need at least that one serialized write; nothing else
 * is done (no auth, no parsing, no settlement after the answer).
 */
import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

/** The one meter object's contract. */
interface MeterRpc extends Rpc.DurableObjectBranded {
  record(row: MeterRow): number;
}

interface MeterRow {
  request_id: string;
  key_id: string;
  model: string;
  backend: string;
  mode: string;
  prompt_tokens: number;
  completion_tokens: number;
  status: string;
  duration_ms: number;
  cost_micro_usd: number;
  created_at: number;
}

interface MeteredEnv {
  Bindings: {
    /** The backend's origin, e.g. `http://127.0.0.1:8000`. */
    UPSTREAM: string;
    METER: DurableObjectNamespace<MeterRpc>;
  };
}

/** One object for every request, as the gateway has one account object for the bench's key. */
export class MeterDO extends DurableObject<MeteredEnv["Bindings"]> implements MeterRpc {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: MeteredEnv["Bindings"]) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    // The gateway's ledger table's columns (worker/accounts/account-storage.ts), with its unique request id.
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS ledger (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      request_id TEXT NOT NULL UNIQUE,
      key_id TEXT NOT NULL, end_user TEXT, model TEXT NOT NULL, backend TEXT NOT NULL, mode TEXT NOT NULL,
      prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cached INTEGER NOT NULL,
      status TEXT NOT NULL, ttft_ms INTEGER, duration_ms INTEGER NOT NULL, cost_micro_usd INTEGER NOT NULL,
      created_at INTEGER NOT NULL, rolled_up INTEGER NOT NULL DEFAULT 0
    )`);
  }

  record(r: MeterRow): number {
    this.#sql.exec(
      `INSERT INTO ledger (request_id, key_id, end_user, model, backend, mode, prompt_tokens, completion_tokens, cached, status, ttft_ms, duration_ms, cost_micro_usd, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.request_id, r.key_id, null, r.model, r.backend, r.mode, r.prompt_tokens, r.completion_tokens, 0, r.status, null,
      r.duration_ms, r.cost_micro_usd, r.created_at,
    );
    return this.#sql.databaseSize;
  }
}

const app = new Hono<MeteredEnv>();

app.all("*", async (c) => {
  const meter = c.env.METER.get(c.env.METER.idFromName("bench"));
  await meter.record({
    request_id: crypto.randomUUID(),
    key_id: "key_bench_metered_floor",
    model: "GAIR/LIMO",
    backend: "sim",
    mode: "live",
    prompt_tokens: 64,
    completion_tokens: 2000,
    status: "ok",
    duration_ms: 140,
    cost_micro_usd: 1234,
    created_at: Date.now(),
  });
  const { pathname, search } = new URL(c.req.url);
  return fetch(new Request(new URL(pathname + search, c.env.UPSTREAM), c.req.raw));
});

export default app;
