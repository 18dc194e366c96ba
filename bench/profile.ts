/**
 * @module profile
 * A CPU profile of the gateway under one benchmark scenario's load: builds and
 * starts it as `npm run bench` does (raw workerd, the simulator at full speed),
 * attaches the V8 inspector to the Worker's isolate, runs autocannon, and
 * prints the functions with the most self time. For finding where a row's CPU
 * goes; the figures themselves come from `npm run bench`.
 *
 *   node --import tsx bench/profile.ts [scenario id] [requests] [--out profile.cpuprofile]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { SCENARIOS } from "./scenarios";
import { BENCH_API_KEY, buildWorker, gatewayBindings, ROOT, startSim, startWorker } from "./workers";
import { VLLM_STREAM_INTERVAL } from "../shared/constants";

const INSPECTOR_PORT = 9329;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

async function cdp(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 1;
  const pending = new Map<number, (v: unknown) => void>();
  ws.onmessage = (m) => {
    const msg = JSON.parse(String(m.data)) as { id?: number; result?: unknown; error?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.error ? { error: msg.error } : msg.result);
  };
  return {
    send: (method: string, params: object = {}) =>
      new Promise<any>((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf("--out");
  const out = outIndex >= 0 ? args.splice(outIndex, 2)[1] : undefined;
  const scenario = SCENARIOS.find((s) => s.id === (args[0] ?? "stream"))!;
  const amount = Number(args[1] ?? (scenario.stream ? 40 : 3000));
  const work = mkdtempSync(join(tmpdir(), "limo-profile-"));
  // vLLM's stream interval: PROFILE_STREAM_INTERVAL, else the deployment's (as `npm run bench`).
  const interval = Number(process.env.PROFILE_STREAM_INTERVAL ?? VLLM_STREAM_INTERVAL);
  const sim = await startSim(interval);
  const configPath = process.env.PROFILE_CONFIG ?? join(ROOT, "wrangler.toml");
  const bundle = await buildWorker(configPath, join(work, "gateway"));
  process.env.BENCH_INSPECTOR_PORT = String(INSPECTOR_PORT);
  const gateway = await startWorker(
    { configPath, scriptPath: bundle.scriptPath, bindings: gatewayBindings(sim.url), probe: SCENARIOS[0]!.request(BENCH_API_KEY) },
    join(work, "spec.json"),
  );
  try {
    const request = scenario.request(BENCH_API_KEY);
    const load = (n: number) =>
      autocannon({
        url: gateway.url + request.path,
        method: request.method as "POST",
        headers: request.headers,
        body: request.body,
        connections: scenario.concurrency,
        amount: n,
      });
    await load(Math.max(scenario.concurrency, Math.ceil(amount / 4))); // warm-up
    const targets = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json`)).json()) as { title: string; webSocketDebuggerUrl: string }[];
    const target = targets.find((t) => t.title.includes("bench")) ?? targets[0]!;
    const session = await cdp(target.webSocketDebuggerUrl.replace("localhost", "127.0.0.1"));
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: 50 });
    await session.send("Profiler.start");
    const result = await load(amount);
    const { profile } = (await session.send("Profiler.stop")) as { profile: Profile };
    session.close();
    console.log(`${scenario.id}: ${result.requests.total} requests, ${result.non2xx} non-2xx, ${result.duration.toFixed(1)} s`);
    if (out) writeFileSync(out, JSON.stringify(profile));
    // A stream's events: the role chunk, the first token, then one per `interval` tokens, the usage chunk and [DONE].
    const events = 2 + Math.ceil((scenario.tokens - 1) / interval) + 2;
    summarize(profile, scenario.stream ? amount * events : amount, scenario.stream ? "event" : "request");
  } finally {
    await gateway.stop();
    await sim.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function summarize(profile: Profile, units: number, unit: string): void {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byName = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const t = self.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idle += t;
      continue;
    }
    total += t;
    const key = `${functionName || "(anonymous)"} ${url.split("/").pop()}:${lineNumber + 1}`;
    byName.set(key, (byName.get(key) ?? 0) + t);
  }
  // Inclusive time: a node's self time plus its descendants', counted once per function on a path.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<string, number>();
  const keyOf = (n: ProfileNode) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber + 1}`;
  const walk = (id: number, onPath: Set<string>): number => {
    const node = byId.get(id)!;
    const key = keyOf(node);
    let t = self.get(id) ?? 0;
    const fresh = !onPath.has(key);
    if (fresh) onPath.add(key);
    for (const child of node.children ?? []) t += walk(child, onPath);
    if (fresh) {
      onPath.delete(key);
      if (node.callFrame.functionName !== "(idle)" && node.callFrame.functionName !== "(root)") inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
    return t;
  };
  walk(profile.nodes[0]!.id, new Set());
  if (process.env.PROFILE_INCLUSIVE) {
    console.log("inclusive:");
    for (const [key, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 60)) {
      console.log(`${(t / units).toFixed(2).padStart(8)} µs/${unit}  ${key}`);
    }
  }
  console.log(`busy ${(total / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms; µs per ${unit}: ${(total / units).toFixed(2)}`);
  for (const [key, t] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 45)) {
    console.log(`${(t / units).toFixed(2).padStart(8)} µs/${unit}  ${((100 * t) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
