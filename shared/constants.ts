/**
 * @module constants
 * Facts about LIMO and its serving stack that the Worker, the simulator, the
 * Modal app's agreement test and the tests all rely on. Change them here only.
 */

/** LIMO's context window (Qwen2.5-32B, no rope scaling), in tokens. */
export const MAX_MODEL_LEN_TOKENS = 32_768;

/** The system prompt LIMO was trained and evaluated with. */
export const LIMO_SYSTEM_PROMPT =
  "Please reason step by step, and put your final answer within \\boxed{}.";

/** LIMO's recommended sampling when the client sets none. */
export const DEFAULT_TEMPERATURE = 0.7;
export const DEFAULT_TOP_P = 0.95;

/** Most choices one request may ask for; each is a full-length generation. */
export const MAX_CHOICES_N = 8;

/**
 * vLLM's `--stream-interval` on the deployment (gpu/modal_app.py; vLLM's own
 * default is 1): each choice streams its first token at once, then one SSE
 * chunk per this many tokens, and the rest with its finish. The Worker's CPU
 * on a gateway path is spent per SSE event, not per token, and vLLM's API
 * server also does less per token; 8 tokens at LIMO's 35-40 tokens a second
 * (a chunk every 0.2 s) is still a smooth stream. The simulator's
 * `stream_interval` knob models it (`npm run sim` and `npm run dev` default
 * to this value; tests/node/gpu-settings.test.ts holds the two to it).
 */
export const VLLM_STREAM_INTERVAL = 8;

/** Largest request body we read, in bytes (1 MiB). */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/** A model we expose: the public id clients send, and the name vLLM serves it under. */
export interface CatalogueModel {
  /** Public id and alias: what clients put in `model`. */
  readonly id: string;
  /** vLLM's `--served-model-name`, and the Hugging Face repository it loads. */
  readonly servedName: string;
  readonly ownedBy: string;
}

/**
 * Every model the API knows. `/v1/models` lists those some configured backend
 * serves. gpu/modal_app.py must serve the same names (tests/node/gpu-settings.test.ts).
 */
export const MODEL_CATALOGUE: readonly CatalogueModel[] = [
  { id: "limo", servedName: "GAIR/LIMO", ownedBy: "GAIR" },
  { id: "limo-v2", servedName: "GAIR/LIMO-v2", ownedBy: "GAIR" },
];

/** Modal's proxy-auth headers (web endpoints with `requires_proxy_auth=True`). */
export const MODAL_KEY_HEADER = "Modal-Key";
export const MODAL_SECRET_HEADER = "Modal-Secret";

/** Our request id, on every response. */
export const REQUEST_ID_HEADER = "x-request-id";
