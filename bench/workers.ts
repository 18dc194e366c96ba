/**
 * @module workers
 * Builds a Worker the way `wrangler deploy` does (`--dry-run --outdir`, so the
 * bundle and its gzipped size are what would be uploaded) and starts it under
 * worker-host.ts. The floor and the gateway go through exactly this path.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import { gzipSync } from "node:zlib";
import { unstable_readConfig } from "wrangler";
import { LONGEST_ANSWER } from "./scenarios";
import type { HostReady, HostSpec, HostTimed, StartupSample } from "./worker-host";

export const ROOT = join(import.meta.dirname, "..");

/** The key the gateway is called with; DEV_API_KEY seeds the development account with it. */
export const BENCH_API_KEY = "limo_dev_bench_key_not_a_secret";
/** The gateway's ADMIN_TOKEN, for making the admission rows' accounts and keys. */
export const BENCH_ADMIN_TOKEN = "bench_admin_token_not_a_secret";

/**
 * Starts bench/sim-host.ts in a process of its own: every answer runs to its
 * max_tokens, streamed at vLLM's `--stream-interval` `streamInterval` (the
 * deployment's, gpu/modal_app.py, unless the run says otherwise), the same for
 * every target.
 */
export async function startSim(streamInterval: number): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench", "sim-host.ts")], {
    cwd: ROOT,
    // Every answer runs to its max_tokens (the simulator's min_tokens knob; max_tokens still cuts it).
    env: { ...process.env, SIM_MIN_TOKENS: String(LONGEST_ANSWER), SIM_STREAM_INTERVAL: String(streamInterval) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const { url } = await firstJsonLine<{ url: string }>(child, "simulator");
  return { url, pid: child.pid!, stop: () => stopChild(child) };
}

/**
 * The gateway's vars and secrets over its config's: development mode, the
 * bench keys, and the simulator as its one backend. The dev key is a
 * test-mode key, which only ever reaches backends of kind "simulator"
 * (without one, the gateway would answer from its built-in simulator instead).
 */
export function gatewayBindings(simUrl: string): Record<string, string> {
  const simulator = { name: "sim", url: simUrl, models: ["GAIR/LIMO", "GAIR/LIMO-v2"], weight: 1, kind: "simulator" };
  return { ENVIRONMENT: "development", DEV_API_KEY: BENCH_API_KEY, BACKENDS: JSON.stringify([simulator]), ADMIN_TOKEN: BENCH_ADMIN_TOKEN };
}
/** wrangler's CLI, run with this Node (its package exports do not include the bin). */
const WRANGLER_BIN = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
/** Longest a build or a host's cold starts may take, in milliseconds. */
const START_TIMEOUT_MS = 120_000;

export interface Bundle {
  scriptPath: string;
  bytes: number;
  gzipBytes: number;
  /** Bytes of the bundle by origin (an npm package, or a top-level folder of ours), largest first. */
  breakdown: { origin: string; bytes: number }[];
}

/** Bundles the Worker that `configPath` describes into `outDir`, as `wrangler deploy` would. */
export async function buildWorker(configPath: string, outDir: string): Promise<Bundle> {
  const metafile = join(outDir, "meta.json");
  const args = [WRANGLER_BIN, "deploy", "--dry-run", "--outdir", outDir, "--metafile", metafile, "--config", configPath];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`wrangler deploy --dry-run ${configPath} failed (exit ${code}):\n${output}`);
  const meta = readMeta(metafile);
  const entry = Object.entries(meta.outputs).find(([, output]) => output.entryPoint !== undefined);
  if (!entry) throw new Error(`wrangler wrote no entry point for ${configPath}`);
  const scriptPath = join(outDir, basename(entry[0]));
  // What would be uploaded: the entry and any other module, not source maps or notes.
  const uploaded = readdirSync(outDir).filter((f) => !/\.map$|^README\.md$|^meta\.json$/.test(f));
  const files = uploaded.map((f) => readFileSync(join(outDir, f)));
  return {
    scriptPath,
    bytes: files.reduce((sum, f) => sum + f.length, 0),
    gzipBytes: files.reduce((sum, f) => sum + gzipSync(f).length, 0),
    breakdown: breakdown(meta, dirname(configPath)),
  };
}

interface Metafile {
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
}

function readMeta(path: string): Metafile {
  return JSON.parse(readFileSync(path, "utf8")) as Metafile;
}

/** Metafile paths are relative to the config's folder, esbuild's working directory. */
function breakdown(meta: Metafile, baseDir: string): Bundle["breakdown"] {
  const totals = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const origin = originOf(relative(ROOT, resolve(baseDir, input)));
      totals.set(origin, (totals.get(origin) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([origin, bytes]) => ({ origin, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** `node_modules/@scope/pkg/...` -> `@scope/pkg`; `worker/http/x.ts` -> `worker/`. */
export function originOf(input: string): string {
  const inModules = input.lastIndexOf("node_modules/");
  if (inModules !== -1) {
    const parts = input.slice(inModules + "node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const slash = input.indexOf("/");
  return slash === -1 ? input : input.slice(0, slash + 1);
}

/**
 * Writes a wrangler config for the passthrough Worker: the gateway's
 * compatibility date and flags, nothing else.
 */
export function writePassthroughConfig(gatewayConfigPath: string, dir: string): string {
  return writeFloorConfig(gatewayConfigPath, dir, "wrangler.json", { name: "bench-passthrough", main: join(ROOT, "bench", "passthrough-worker.ts") });
}

/**
 * Writes a wrangler config for the metered floor (bench/metered-floor-worker.ts):
 * the passthrough's, plus its one SQLite-backed Durable Object.
 */
export function writeMeteredFloorConfig(gatewayConfigPath: string, dir: string): string {
  return writeFloorConfig(gatewayConfigPath, dir, "wrangler-metered.json", {
    name: "bench-metered-floor",
    main: join(ROOT, "bench", "metered-floor-worker.ts"),
    durable_objects: { bindings: [{ name: "METER", class_name: "MeterDO" }] },
    migrations: [{ tag: "v1", new_sqlite_classes: ["MeterDO"] }],
  });
}

function writeFloorConfig(gatewayConfigPath: string, dir: string, file: string, fields: Record<string, unknown>): string {
  const gateway = unstable_readConfig({ config: gatewayConfigPath }, { hideWarnings: true });
  const configPath = join(dir, file);
  const config = {
    ...fields,
    compatibility_date: gateway.compatibility_date,
    compatibility_flags: gateway.compatibility_flags,
    send_metrics: false,
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return configPath;
}

/**
 * Writes a module that does nothing (it answers 200 and exports an empty
 * class for each Durable Object the config binds), for timing a config's
 * start-up without its Worker's code: what workerd spends booting the
 * bindings themselves (Durable Object namespaces, D1, static assets), which
 * in local workerd is part of every cold start and on Cloudflare is not.
 */
export function writeEmptyWorker(configPath: string, dir: string): string {
  const config = unstable_readConfig({ config: configPath }, { hideWarnings: true });
  const classes = [...new Set(config.durable_objects.bindings.map((b: { class_name: string }) => b.class_name))];
  const scriptPath = join(dir, "empty-worker.js");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    scriptPath,
    [
      `import { DurableObject } from "cloudflare:workers";`,
      ...classes.map((name) => `export class ${name} extends DurableObject {}`),
      `export default { fetch() { return new Response("ok"); } };`,
      "",
    ].join("\n"),
  );
  return scriptPath;
}

export interface RunningWorker extends HostReady {
  stop(): Promise<void>;
}

function spawnHost(spec: HostSpec, specPath: string): ChildProcess {
  writeFileSync(specPath, JSON.stringify(spec));
  return spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench", "worker-host.ts"), specPath], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Cold-starts a Worker `spec.startupTrials` times in a host process of its own, and returns the timings. */
export async function timeColdStarts(spec: Omit<HostSpec, "keepRunning">, specPath: string): Promise<StartupSample[]> {
  const child = spawnHost({ ...spec, keepRunning: false }, specPath);
  const { startup } = await firstJsonLine<HostTimed>(child, "worker host");
  await stopChild(child);
  return startup;
}

/** Starts a host process for one Worker and resolves once it answered its first request. */
export async function startWorker(spec: Omit<HostSpec, "keepRunning" | "startupTrials">, specPath: string): Promise<RunningWorker> {
  const child = spawnHost({ ...spec, startupTrials: 1, keepRunning: true }, specPath);
  const ready = await firstJsonLine<HostReady>(child, "worker host");
  return { ...ready, stop: () => stopChild(child) };
}

/** Resolves with the first JSON line a child prints on stdout, or rejects with what it said before dying. */
export function firstJsonLine<T>(child: ChildProcess, what: string): Promise<T> {
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start in ${START_TIMEOUT_MS} ms:\n${stderr}`)), START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return;
      clearTimeout(timer);
      lines.close();
      child.stdout!.resume();
      resolve(JSON.parse(line) as T);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${stderr}`));
    });
  });
}

/** Closes the child's stdin (its signal to stop) and waits, killing it if it lingers. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.stdin?.end();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
