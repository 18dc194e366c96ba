/**
 * @module env
 * The Worker's bindings and the one Hono environment type every route and
 * middleware shares.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AccountDO } from "./accounts/account-do";
import type { BackendPoolDO } from "./routing/backend-pool-do";
import type { GenerationDO } from "./generations/generation-do";
import type { Credential, Principal } from "./accounts/auth-service";

/** Bindings from wrangler.toml `[vars]` and Worker secrets. */
export interface Env {
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
  ACCOUNTS: DurableObjectNamespace<AccountDO>;
  /** One Durable Object per generation (streamed, cached or background): it owns the backend call. */
  GENERATIONS: DurableObjectNamespace<GenerationDO>;
  /** Default time to live of a cached answer, in seconds (default 86400). */
  CACHE_TTL_SECONDS?: string;
  /** How long a foreground generation outlives its last subscriber, in ms (default 15000). */
  GENERATION_GRACE_MS?: string;
  /** The one object that leases backend slots and keeps breakers and health (worker/routing). */
  BACKEND_POOL: DurableObjectNamespace<BackendPoolDO>;
  /** Routing knobs, in milliseconds (worker/routing/policy.ts has the defaults and reasons). */
  COLD_START_BUDGET_MS?: string;
  TTFT_TIMEOUT_MS?: string;
  STREAM_IDLE_TIMEOUT_MS?: string;
  STREAM_COALESCE_MS?: string;
  BACKEND_BUSY_WAIT_MS?: string;
  KEEPALIVE_INTERVAL_MS?: string;
  /** UTC hours `start-end` (e.g. `7-19`) during which the cron keeps GPU backends warm; absent: never. */
  PREWARM_HOURS_UTC?: string;
  /** Modal proxy-auth token pair (secrets). */
  MODAL_KEY?: string;
  MODAL_SECRET?: string;
  /** vLLM's `--api-key`, sent as a Bearer token to the backend (secret). */
  VLLM_API_KEY?: string;
}

/** Per-request values set by middleware. */
export interface Variables {
  requestId: string;
  /** The key as checked offline (every authenticated route). */
  credential: Credential;
  /** The authorized caller (set by bearerAuth, or by a generation route's admission). */
  principal: Principal;
}

export interface HonoEnv {
  Bindings: Env;
  Variables: Variables;
}

/** The application every route registers on (routes/ and routes/admin/). */
export type App = OpenAPIHono<HonoEnv>;

type WorkerEnv = Env;
declare global {
  namespace Cloudflare {
    // Lets `env` from cloudflare:test carry our bindings' types.
    interface Env extends WorkerEnv {}
  }
}
