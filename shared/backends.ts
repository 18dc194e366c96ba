/**
 * @module backends
 * The `BACKENDS` configuration: the GPU servers (vLLM on Modal, or the
 * simulator) the Worker may call. Credentials are never here: they are
 * Worker secrets (MODAL_KEY, MODAL_SECRET, VLLM_API_KEY).
 */
import * as z from "zod";

export const BackendConfigSchema = z.strictObject({
  /** Short unique name, used in logs, the ledger and admin views. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i),
  /** Base URL of the OpenAI-compatible server, without `/v1`. */
  url: z.url({ protocol: /^https?$/ }),
  /** vLLM served model names this backend answers for. */
  models: z.array(z.string().min(1)).min(1),
  /** Relative share of traffic among equally good backends. */
  weight: z.number().positive().default(1),
  /**
   * `gpu` (default) runs the real model; `simulator` is the vLLM simulator.
   * Test-mode keys only ever reach simulators (the Worker's built-in one when
   * none is configured), so they never spend GPU time.
   */
  kind: z.enum(["gpu", "simulator"]).default("gpu"),
  /** Where it runs (free text, e.g. `us-east`): shown to operators, used to break ties. */
  region: z.string().min(1).max(64).optional(),
  /** The GPU it runs on (free text, e.g. `H200`): shown to operators. */
  gpu: z.string().min(1).max(64).optional(),
  /**
   * Most generations the Worker sends it at once (all isolates together);
   * absent: no limit of ours (vLLM queues what it cannot batch).
   */
  max_in_flight: z.number().int().positive().optional(),
  /**
   * Its KV-cache capacity in tokens, all containers together (vLLM logs
   * `GPU KV cache size: N tokens` at boot; `h200-bf16`: 251,328 a container,
   * times `max_containers`). Load-aware routing holds requests before our
   * projected load passes 90 % of it; absent: never held for KV.
   */
  kv_tokens: z.number().int().positive().optional(),
  /**
   * Sequences it runs at once, all containers together: vLLM's
   * `--max-num-seqs` times `max_containers` (an `n` = 4 request is 4).
   * Load-aware routing sends a request where a sequence is free and holds
   * it at the gateway while none is; absent: never held for sequences.
   */
  max_sequences: z.number().int().positive().optional(),
  /**
   * Tokens a second one of its sequences decodes at, for load-aware
   * routing's estimate of each lease's progress (`h200-bf16` with a full KV
   * cache: about 36); absent: 35.
   */
  decode_tokens_per_second: z.number().positive().max(10_000).optional(),
});

export const BackendsSchema = z
  .array(BackendConfigSchema)
  .min(1)
  .refine((list) => new Set(list.map((b) => b.name)).size === list.length, "backend names must be unique");

export type BackendConfig = z.infer<typeof BackendConfigSchema>;

// ---- The admin view of the backends (`GET /admin/v1/backends`, the dashboard's backends page) ----

export const BackendStatusSchema = z
  .object({
    name: z.string(),
    url: z.string(),
    kind: z.enum(["gpu", "simulator"]),
    models: z.array(z.string()),
    weight: z.number(),
    region: z.string().nullable(),
    gpu: z.string().nullable(),
    max_in_flight: z.number().int().nullable().describe("null: no limit of ours"),
    in_flight: z.number().int().describe("Generations we have on it now (all isolates)"),
    breaker: z.object({
      state: z.enum(["closed", "open", "half_open"]),
      consecutive_failures: z.number().int(),
      opened_at: z.number().int().nullable().describe("Unix ms"),
    }),
    health: z
      .object({
        state: z.enum(["warm", "cold", "down"]),
        checked_at: z.number().int().describe("Unix ms"),
        source: z.enum(["poll", "traffic"]),
        num_requests_running: z.number().nullable(),
        num_requests_waiting: z.number().nullable().describe("vLLM's own queue"),
        kv_cache_usage: z.number().min(0).max(1).nullable().describe("vLLM's KV-cache usage, 0 to 1 (`vllm:kv_cache_usage_perc`)"),
      })
      .nullable()
      .describe("null until polled or used"),
  })
  .meta({ id: "BackendStatus" });
export type BackendStatus = z.infer<typeof BackendStatusSchema>;

export const BackendStatusListSchema = z.object({ data: z.array(BackendStatusSchema) }).meta({ id: "BackendStatusList" });
export type BackendStatusList = z.infer<typeof BackendStatusListSchema>;
