/**
 * @module env
 * The Worker's bindings and the one Hono environment type every route and
 * middleware shares.
 */
import type { Principal } from "./services/auth";

/** Bindings from wrangler.toml `[vars]` and Worker secrets. */
export interface Env {
  /** "development" enables DEV_API_KEY; any other value refuses it. */
  ENVIRONMENT: string;
  /** JSON list of backends (shared/backends.ts). */
  BACKENDS: string;
  /** Overrides LIMO's system prompt for this deployment. */
  LIMO_SYSTEM_PROMPT?: string;
  /** The single development key (secret; `.dev.vars` locally). */
  DEV_API_KEY?: string;
  /** Modal proxy-auth token pair (secrets). */
  MODAL_KEY?: string;
  MODAL_SECRET?: string;
  /** vLLM's `--api-key`, sent as a Bearer token to the backend (secret). */
  VLLM_API_KEY?: string;
}

/** Per-request values set by middleware. */
export interface Variables {
  requestId: string;
  principal: Principal;
}

export interface HonoEnv {
  Bindings: Env;
  Variables: Variables;
}

type WorkerEnv = Env;
declare global {
  namespace Cloudflare {
    // Lets `env` from cloudflare:test carry our bindings' types.
    interface Env extends WorkerEnv {}
  }
}
