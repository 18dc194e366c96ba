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
import type { CallRecord } from "../../gpu/sim/fleet/modal-edge";
import type { TraceRequest } from "./trace";

export interface FleetSetup {
  deployments: number;
  timeScale: number;
  /** vLLM's --max-num-seqs and Modal's max_inputs per container (above the KV-safe 7: preemption is possible). */
  maxNumSeqs: number;
  /** gpu_memory_utilization giving the scaled KV cache. */
  gpuMemoryUtilization: number;
  expectedAnswerTokens: number;
  /** Tokens a simulated second one sequence decodes at (the profile's step at the planned batch): BACKENDS `decode_tokens_per_second`, in wall seconds. */
  decodeTokensPerSecond: number;
}

export interface RequestResult {
  /** Index in the trace. */
  index: number;
  status: number;
  /** Simulated seconds from arrival to the first content token (null: none came). */
  ttft: number | null;
  tokens: number;
  cached: boolean;
  n: number;
  answerTokens: number;
  /** Wall ms (Date.now()) when it was sent and when its last byte came: lines it up with the simulator's call log. */
  sentUnixMs: number;
  endUnixMs: number;
  /** Where its time to first token went (null: it never reached a backend, e.g. a cache hit). */
  path: TtftPath | null;
}

/**
 * One request's time to first token, split where it was spent, in simulated
 * seconds: at the gateway (routing, a load-aware hold), in Modal's edge queue,
 * in the container (vLLM's queue and the prefill), and the rest (the relay
 * back through the gateway to the client).
 */
export interface TtftPath {
  backend: string;
  container: string | null;
  gateway_s: number;
  modal_edge_wait_s: number | null;
  vllm_queue_and_prefill_s: number | null;
  relay_s: number | null;
  /** How long after the container's last byte the client got its own (the gateway's relay falling behind). */
  end_lag_s: number | null;
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
  // What an operator would write for these deployments: KV, --max-num-seqs (one container each), and the
  // decode rate in the router's (wall) time: the simulator runs timeScale simulated seconds a wall second.
  const backends = fleet.deployments.map((d) => ({
    name: d.name,
    url: d.url,
    models: ["GAIR/LIMO"],
    weight: 1,
    kind: "simulator",
    kv_tokens: kvTokens,
    max_sequences: setup.maxNumSeqs,
    decode_tokens_per_second: setup.decodeTokensPerSecond * setup.timeScale,
  }));
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
      trace.map(async (req, index) => {
        const wait = started + req.at * wallPerSim - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const result = await send(gateway.url, req, index, performance.now(), wallPerSim);
        progress(++done);
        return result;
      }),
    );
    const seconds = (performance.now() - started) / wallPerSim;
    attachPaths(results, trace, await fleet.calls(), wallPerSim);
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

/**
 * Finds each answered request's call in the simulator's log (by its
 * question, in order of sending among equal questions) and splits its TTFT.
 */
export function attachPaths(results: RequestResult[], trace: readonly TraceRequest[], calls: Record<string, CallRecord[]>, wallPerSim: number): void {
  const byTag = new Map<string, { backend: string; call: CallRecord }[]>();
  for (const [backend, list] of Object.entries(calls)) {
    for (const call of list) {
      const at = byTag.get(call.tag) ?? [];
      at.push({ backend, call });
      byTag.set(call.tag, at);
    }
  }
  for (const list of byTag.values()) list.sort((a, b) => a.call.arrived_unix_ms - b.call.arrived_unix_ms);
  const order = [...results].sort((a, b) => a.sentUnixMs - b.sentUnixMs);
  for (const result of order) {
    if (result.cached) continue;
    const found = byTag.get(callTag(trace[result.index]!.question))?.shift();
    if (!found) continue;
    const { backend, call } = found;
    const gateway = Math.max(0, (call.arrived_unix_ms - result.sentUnixMs) / wallPerSim);
    const edge = call.dispatched_ms === null ? null : (call.dispatched_ms - call.arrived_ms) / 1000;
    const container = call.dispatched_ms === null || call.first_byte_ms === null ? null : (call.first_byte_ms - call.dispatched_ms) / 1000;
    const relay = result.ttft === null || edge === null || container === null ? null : Math.max(0, result.ttft - gateway - edge - container);
    const endedUnixMs = call.ended_ms === null ? null : call.arrived_unix_ms + ((call.ended_ms - call.arrived_ms) * wallPerSim) / 1000;
    const endLag = endedUnixMs === null ? null : (result.endUnixMs - endedUnixMs) / wallPerSim;
    result.path = { backend, container: call.container, gateway_s: gateway, modal_edge_wait_s: edge, vllm_queue_and_prefill_s: container, relay_s: relay, end_lag_s: endLag };
  }
}

/** The simulator's tag of a call: the head of its last user message. */
const callTag = (question: string) => question.slice(0, 80);

/** One streaming request, timed to its first content token. */
async function send(url: string, req: TraceRequest, index: number, sentAt: number, wallPerSim: number): Promise<RequestResult> {
  const sentUnixMs = Date.now();
  const base = { index, n: req.n, answerTokens: req.answerTokens, sentUnixMs, endUnixMs: sentUnixMs, path: null };
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
    return { ...base, endUnixMs: Date.now(), status: res.status, ttft: null, tokens: 0, cached };
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
  return { ...base, endUnixMs: Date.now(), status: res.status, ttft, tokens, cached };
}
