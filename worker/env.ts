/**
 * @module env
 * The Worker's bindings. Durable Object namespaces are typed by each object's
 * contract (its RPC interface, `*-rpc.ts`), never by its class, so nothing but
 * the entry point imports an object's implementation.
 */
import type { AccountRpc } from "./accounts/account-rpc";
import type { CheckerRpc } from "./answers/checker-rpc";
import type { BackendSecrets, RoutingVars } from "./core/vars";
import type { GenerationRpc } from "./generations/generation-rpc";
import type { ResponseStoreRpc } from "./responses/response-store-rpc";
import type { PoolRpc } from "./routing/pool-rpc";

/** Bindings from wrangler.toml `[vars]` and Worker secrets. */
export interface Env extends RoutingVars, BackendSecrets {
  /** "development" enables DEV_API_KEY; any other value refuses it. */
  ENVIRONMENT: string;
  /** JSON list of backends (shared/backends.ts). */
  BACKENDS: string;
  /** Overrides LIMO's system prompt for this deployment. */
  LIMO_SYSTEM_PROMPT?: string;
  /** A development key (secret; `.dev.vars` locally), seeded into the dev account. */
  DEV_API_KEY?: string;
  /** Bearer token of the admin API (secret); without it `/admin` does not exist. */
  ADMIN_TOKEN?: string;
  /** The control plane: accounts and keys (migrations/). Never read on the hot path. */
  DB: D1Database;
  /** One Durable Object per account: what the hot path asks about a key. */
  ACCOUNTS: DurableObjectNamespace<AccountRpc>;
  /** One Durable Object per generation (streamed, cached or background): it owns the backend call. */
  GENERATIONS: DurableObjectNamespace<GenerationRpc>;
  /** One Durable Object per account holding its stored responses (the Responses API, worker/responses). */
  RESPONSES: DurableObjectNamespace<ResponseStoreRpc>;
  /** Default time to live of a cached answer, in seconds (default 86400). */
  CACHE_TTL_SECONDS?: string;
  /** How long a foreground generation outlives its last subscriber, in ms (default 2000: shared/generations DISCONNECT_GRACE_MS). */
  GENERATION_GRACE_MS?: string;
  /** The one object that leases backend slots and keeps breakers and health (worker/routing). */
  BACKEND_POOL: DurableObjectNamespace<PoolRpc>;
  /** Tutor modes: how many times a leaking JSON hint or feedback is generated again before its leaks are redacted (default 2, at most 5). */
  TUTOR_MAX_REGENERATIONS?: string;
  /** The checker Worker (checker/, `limo-checker`): the CAS step of answer checks, votes and tutor guards. Absent: those pairs are null. */
  CHECKER?: Service<CheckerRpc>;
  /** UTC hours `start-end` (e.g. `7-19`) during which the cron keeps GPU backends warm; absent: never. */
  PREWARM_HOURS_UTC?: string;
}

type WorkerEnv = Env;
declare global {
  namespace Cloudflare {
    // Lets `env` from cloudflare:test carry our bindings' types.
    interface Env extends WorkerEnv {}
  }
}
