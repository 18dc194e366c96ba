/**
 * @module vars
 * The Worker vars that code below the services reads, as plain interfaces
 * that `Env` extends: the routing knobs and the backend credentials. Here,
 * not in env.ts, so that the router and the objects' contracts can name them
 * without importing `Env` (which names the contracts).
 */

/** The vars that tune routing, in milliseconds; every one optional (routing/policy.ts has the defaults and reasons). */
export interface RoutingVars {
  COLD_START_BUDGET_MS?: string;
  TTFT_TIMEOUT_MS?: string;
  STREAM_IDLE_TIMEOUT_MS?: string;
  STREAM_COALESCE_MS?: string;
  BACKEND_BUSY_WAIT_MS?: string;
  KEEPALIVE_INTERVAL_MS?: string;
  /** `least-loaded` (default), `round-robin` or `load-aware` (routing/choose). */
  ROUTING_POLICY?: string;
  ROUTING_HOLD_MS?: string;
  ROUTING_EXPECTED_ANSWER_TOKENS?: string;
}

/** What the backend client sends to authenticate (Worker secrets). */
export interface BackendSecrets {
  /** Modal proxy-auth token pair. */
  MODAL_KEY?: string;
  MODAL_SECRET?: string;
  /** vLLM's `--api-key`, sent as a Bearer token to the backend. */
  VLLM_API_KEY?: string;
}
