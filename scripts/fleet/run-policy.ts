/**
 * @module fleet/run-policy
 * One policy's run of `npm run fleet`: a fresh simulated fleet
 * (startSimFleet: K Modal deployments of vLLM on loopback), a fresh gateway
 * in raw workerd (bench/workers.ts, as `npm run bench` runs it) routing to
 * them with ROUTING_POLICY set, the trace replayed on the simulated clock,
 * every request a streaming chat completion timed to its first token.
 */
import { join } from "node:path";
import { startSimFleet } from "../../gpu/sim/node-server";
import { kvCapacityTokens } from "../../gpu/sim/perf/arithmetic";
import { GPU_PROFILES } from "../../gpu/sim/perf/profiles";
import { SseSplitter, sseData } from "../../shared/sse";
import { BENCH_ADMIN_TOKEN, BENCH_API_KEY, startWorker, type Bundle } from "../../bench/workers";
import type { TraceRequest } from "./trace";

export interface FleetSetup {
  deployments: number;
  timeScale: number;
  /** vLLM's --max-num-seqs and Modal's max_inputs per container (above the KV-safe 7: preemption is possible). */
  maxNumSeqs: number;
  /** gpu_memory_utilization giving the scaled KV cache. */
  gpuMemoryUtilization: number;
  expectedAnswerTokens: number;
}

export interface RequestResult {
  status: number;
  /** Simulated seconds from arrival to the first content token (null: none came). */
  ttft: number | null;
  tokens: number;
  cached: boolean;
}

export interface PolicyRun {
  policy: string;
  results: RequestResult[];
  /** Simulated seconds from the first arrival to the last answer. */
  seconds: number;
  fleet: { preemptions: number; edgeWaitSeconds: number; containerSeconds: number; generationTokens: number; redirects: number };
}

/** The H200 profile's KV capacity (tokens) at a utilisation. */
export function kvTokensAt(utilisation: number): number {
  return kvCapacityTokens(GPU_PROFILES["h200-bf16"], utilisation);
}

export async function runPolicy(
  policy: string,
  trace: readonly TraceRequest[],
  setup: FleetSetup,
  bundle: Bundle,
  workDir: string,
  progress: (done: number) => void,
): Promise<PolicyRun> {
  const fleet = await startSimFleet({
    timeScale: setup.timeScale,
    deployments: Array.from({ length: setup.deployments }, (_, i) => ({
      name: `gpu${i}`,
      profile: "h200-bf16" as const,
      config: {
        min_containers: 1,
        max_containers: 1,
        max_num_seqs: setup.maxNumSeqs,
        max_inputs: setup.maxNumSeqs,
        target_inputs: setup.maxNumSeqs,
        gpu_memory_utilization: setup.gpuMemoryUtilization,
        // Every answer runs to its max_tokens, the length the trace drew.
        min_tokens: 1_000_000,
        fleet_seed: `fleet-${i}`,
      },
    })),
  });
  const kvTokens = kvTokensAt(setup.gpuMemoryUtilization);
  const backends = fleet.deployments.map((d) => ({ name: d.name, url: d.url, models: ["GAIR/LIMO"], weight: 1, kind: "simulator", kv_tokens: kvTokens }));
  const gateway = await startWorker(
    {
      configPath: join(import.meta.dirname, "..", "..", "wrangler.toml"),
      scriptPath: bundle.scriptPath,
      bindings: {
        ENVIRONMENT: "development",
        DEV_API_KEY: BENCH_API_KEY,
        ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
        BACKENDS: JSON.stringify(backends),
        ROUTING_POLICY: policy,
        ROUTING_EXPECTED_ANSWER_TOKENS: String(setup.expectedAnswerTokens),
        // Holds are in wall time: 10 minutes simulated.
        ROUTING_HOLD_MS: String(Math.round(600_000 / setup.timeScale)),
        KEEPALIVE_INTERVAL_MS: "1000",
      },
      probe: { path: "/healthz", method: "GET", headers: {} },
    },
    join(workDir, `host-${policy}.json`),
  );
  const wallPerSim = 1000 / setup.timeScale;
  const started = performance.now();
  let done = 0;
  try {
    const results = await Promise.all(
      trace.map(async (req) => {
        const wait = started + req.at * wallPerSim - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const result = await send(gateway.url, req, performance.now(), wallPerSim);
        progress(++done);
        return result;
      }),
    );
    const seconds = (performance.now() - started) / wallPerSim;
    const summary = await fleet.summary();
    const sum = (pick: (s: NonNullable<(typeof summary)[string]>) => number) => Object.values(summary).reduce((a, s) => a + (s ? pick(s) : 0), 0);
    return {
      policy,
      results,
      seconds,
      fleet: {
        preemptions: sum((s) => s.preemptions),
        edgeWaitSeconds: sum((s) => s.edge_wait_seconds_total),
        containerSeconds: sum((s) => s.container_seconds),
        generationTokens: sum((s) => s.generation_tokens),
        redirects: sum((s) => s.redirects_303),
      },
    };
  } finally {
    await gateway.stop();
    await fleet.close();
  }
}

/** One streaming request, timed to its first content token. */
async function send(url: string, req: TraceRequest, sentAt: number, wallPerSim: number): Promise<RequestResult> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${BENCH_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "limo",
      messages: [{ role: "user", content: req.question }],
      max_tokens: req.answerTokens,
      n: req.n,
      stream: true,
      ...(req.deterministic ? { temperature: 0, seed: 7 } : { temperature: 0.7 }),
    }),
  });
  const cached = /hit|coalesced/i.test(res.headers.get("x-cache") ?? "");
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    return { status: res.status, ttft: null, tokens: 0, cached };
  }
  const splitter = new SseSplitter();
  const decoder = new TextDecoder();
  let ttft: number | null = null;
  let tokens = 0;
  for await (const chunk of res.body) {
    for (const event of splitter.push(decoder.decode(chunk, { stream: true }))) {
      const data = sseData(event);
      if (data === null || data === "[DONE]" || !data.includes('"content":"') || data.includes('"content":""')) continue;
      ttft ??= (performance.now() - sentAt) / wallPerSim;
      tokens++;
    }
  }
  return { status: res.status, ttft, tokens, cached };
}
