/**
 * @module metrics
 * `/metrics` and `/v1/models` as vLLM serves them. The Worker's router reads
 * the queue gauges to pick the least loaded backend, so they are live: running
 * and waiting requests per served model, and a KV-cache fill estimate. In
 * fleet mode they are one container's engine state (`renderEngineMetrics`):
 * sequences, so a request of n = 4 counts four, as vLLM's do.
 */
import type { VllmEngine } from "./fleet/vllm-engine";
import type { SimInstance } from "./instance";

/**
 * Simulated KV-cache capacity, in full-length sequences: about what an H200
 * holds for LIMO (256 KiB a token, 8 GiB a 32k sequence) beside BF16 weights.
 */
export const KV_CACHE_SEQUENCES = 4;

const GAUGES = [
  ["vllm:num_requests_running", "Number of requests in model execution batches."],
  ["vllm:num_requests_waiting", "Number of requests waiting to be processed."],
  ["vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage."],
] as const;

/** Prometheus text exposition (version 0.0.4) of the instance's gauges and counters. */
export function renderMetrics(inst: SimInstance, models: readonly string[], maxModelLen: number): string {
  const capacity = KV_CACHE_SEQUENCES * maxModelLen;
  const values = new Map(models.map((m) => [m, { running: 0, waiting: 0, kvTokens: 0 }]));
  for (const gen of inst.active) {
    const v = values.get(gen.model);
    if (!v) continue;
    if (gen.state === "running") {
      v.running++;
      v.kvTokens += gen.promptTokens + gen.generated;
    } else if (gen.state === "waiting") v.waiting++;
  }
  const lines: string[] = [];
  for (const [name, help] of GAUGES) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [model, v] of values) {
      const value = name.endsWith("running") ? v.running : name.endsWith("waiting") ? v.waiting : Math.min(1, v.kvTokens / capacity);
      lines.push(`${name}{engine="0",model_name="${model}"} ${formatValue(value)}`);
    }
  }
  const { prompt_tokens_total: prompt, tokens_generated_total: generated } = inst.counters;
  lines.push(
    "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.",
    "# TYPE vllm:prompt_tokens_total counter",
    `vllm:prompt_tokens_total{engine="0",model_name="${models[0] ?? ""}"} ${formatValue(prompt)}`,
    "# HELP vllm:generation_tokens_total Number of generation tokens processed.",
    "# TYPE vllm:generation_tokens_total counter",
    `vllm:generation_tokens_total{engine="0",model_name="${models[0] ?? ""}"} ${formatValue(generated)}`,
  );
  return `${lines.join("\n")}\n`;
}

/**
 * One container's vLLM /metrics (vllm/v1/metrics/loggers.py names): the
 * scheduler gauges per served model, KV usage over all blocks, and the
 * preemption and token counters.
 */
export function renderEngineMetrics(engine: VllmEngine, models: readonly string[]): string {
  const lines: string[] = [];
  for (const [name, help] of GAUGES) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const model of models) {
      const g = engine.gauges(model);
      const value = name.endsWith("running") ? g.running : name.endsWith("waiting") ? g.waiting : g.kvUsage;
      lines.push(`${name}{engine="0",model_name="${model}"} ${formatValue(value)}`);
    }
  }
  const c = engine.counters;
  const counter = (name: string, help: string, value: number) =>
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name}{engine="0",model_name="${models[0] ?? ""}"} ${formatValue(value)}`);
  counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.", c.preemptions);
  counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", c.promptTokens);
  counter("vllm:generation_tokens_total", "Number of generation tokens processed.", c.generationTokens);
  return `${lines.join("\n")}\n`;
}

/** `/v1/models`: every served name, with the context window. */
export function renderModels(models: readonly string[], maxModelLen: number, created: number) {
  return {
    object: "list",
    data: models.map((id) => ({
      id,
      object: "model",
      created,
      owned_by: "vllm",
      root: id,
      parent: null,
      max_model_len: maxModelLen,
      permission: [
        {
          id: `modelperm-${crypto.randomUUID().replaceAll("-", "")}`,
          object: "model_permission",
          created,
          allow_create_engine: false,
          allow_sampling: true,
          allow_logprobs: true,
          allow_search_indices: false,
          allow_view: true,
          allow_fine_tuning: false,
          organization: "*",
          group: null,
          is_blocking: false,
        },
      ],
    })),
  };
}

/** Prometheus client_python prints floats: `3.0`, `0.25`. */
function formatValue(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}
