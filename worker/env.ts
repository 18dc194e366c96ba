/**
 * @module env
 * The Worker's bindings and the one Hono environment type every route and
 * middleware shares.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AccountDO } from "./durable-objects/account-do";
import type { Credential, Principal } from "./services/auth";

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
