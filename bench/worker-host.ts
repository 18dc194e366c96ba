/**
 * @module worker-host
 * Runs one bundled Worker in raw workerd through Miniflare, in a process of
 * its own, so each Worker gets its own workerd process whose CPU time can be
 * read from /proc, and draining the Worker's log lines costs the load
 * generator nothing. The bindings come from the Worker's wrangler config
 * through wrangler's own reader (D1, Durable Objects, vars, `.dev.vars`), as
 * `wrangler dev` would make them, with the benchmark's overrides on top; D1
 * migrations are applied before the first request.
 *
 * Started by workers.ts with one argument, the path of a HostSpec JSON file.
 * Cold-starts the Worker `startupTrials` times (each timed, each with a fresh
 * workerd) and prints one JSON line: the samples (HostTimed), then exits; or,
 * with `keepRunning`, keeps the last one running, prints HostReady, and stops
 * when its parent closes stdin.
 */
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { convertV4MiniflareOptions, Miniflare, type MiniflareOptions, type V4MiniflareOptions, type V4ServiceDesignator } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig, unstable_splitSqlQuery } from "wrangler";
import { findDescendant } from "./proc";

export interface HostSpec {
  /** The wrangler config the Worker is deployed with. */
  configPath: string;
  /** The bundle `wrangler deploy --dry-run` wrote. */
  scriptPath: string;
  /** Vars and secrets set over the config's. */
  bindings: Record<string, string>;
  /** Cold starts to time, one after another. */
  startupTrials: number;
  /** Keep the last one running for the benchmark (HostReady), or exit after printing the samples (HostTimed). */
  keepRunning: boolean;
  /** The request a cold start is timed to: the first real request a Worker serves. */
  probe: { path: string; method: string; headers: Record<string, string>; body?: string };
}

/** One cold start. */
export interface StartupSample {
  /** `new Miniflare()` until workerd listens: boots the runtime, compiles and evaluates the Worker. */
  ready_ms: number;
  /** The first request after that, migrations already applied: lazy set-up (Durable Objects, D1) included. */
  first_request_ms: number;
}

export interface HostTimed {
  startup: StartupSample[];
}

export interface HostReady extends HostTimed {
  url: string;
  /** The workerd process serving the Worker. */
  pid: number;
}

async function applyMigrations(mf: Miniflare, configPath: string): Promise<void> {
  const config = unstable_readConfig({ config: configPath }, { hideWarnings: true });
  for (const db of config.d1_databases) {
    if (!db.migrations_dir) continue;
    const dir = join(configPath, "..", db.migrations_dir);
    const files = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();
    const d1 = await mf.getD1Database(db.binding);
    for (const file of files) {
      const statements = unstable_splitSqlQuery(readFileSync(join(dir, file), "utf8"));
      if (statements.length > 0) await d1.batch(statements.map((s) => d1.prepare(s)));
    }
  }
}

const logFile = process.env.BENCH_WORKER_LOG;

function miniflareOptions(spec: HostSpec): MiniflareOptions {
  // The bundle is one ES module, so the config's rules for importing other file types do not apply.
  const { modulesRules: _rules, ...workerOptions } = unstable_getMiniflareWorkerOptions(spec.configPath).workerOptions;
  // wrangler hands out Miniflare 4-style worker options; Miniflare 5 converts them itself.
  const options: V4MiniflareOptions = {
    host: "127.0.0.1",
    port: 0,
    // The bench has no internet: never fetch the `cf` object.
    cf: false,
    enableDevRegistry: false,
    telemetry: { enabled: false },
    // For profiling (bench/profile.ts): the V8 inspector of the Worker's isolate.
    ...(process.env.BENCH_INSPECTOR_PORT ? { inspectorPort: Number(process.env.BENCH_INSPECTOR_PORT) } : {}),
    // The Worker logs a line per generation: dropped here, or appended to BENCH_WORKER_LOG to debug.
    handleStructuredLogs: logFile ? (log) => appendFileSync(logFile, `${log.message}\n`) : () => {},
    workers: [
      {
        ...workerOptions,
        // Module names are paths relative to rootPath, and workerd refuses any that climb out with "..".
        rootPath: dirname(spec.scriptPath),
        name: "bench",
        modules: true,
        scriptPath: spec.scriptPath,
        bindings: { ...(workerOptions.bindings ?? {}), ...spec.bindings },
        serviceBindings: ownServiceBindings(workerOptions.serviceBindings as Record<string, V4ServiceDesignator> | undefined),
      },
    ],
  };
  return convertV4MiniflareOptions(options);
}

/**
 * Service bindings to another Worker (the checker Worker, `CHECKER`) are left
 * unbound: this host runs one Worker, and its start-up and CPU are that
 * Worker's alone (the checker is timed on its own: bench/answers.ts). A
 * Worker without its binding answers what needs it with null.
 */
function ownServiceBindings(bindings: Record<string, V4ServiceDesignator> | undefined): Record<string, V4ServiceDesignator> | undefined {
  if (!bindings) return undefined;
  const named = (target: unknown) => typeof target === "object" && target !== null && typeof (target as { name?: unknown }).name === "string";
  return Object.fromEntries(Object.entries(bindings).filter(([, target]) => !named(target)));
}

async function coldStart(spec: HostSpec): Promise<{ mf: Miniflare; url: string; sample: StartupSample }> {
  const options = miniflareOptions(spec);
  const startedAt = performance.now();
  const mf = new Miniflare(options);
  const url = (await mf.ready).origin;
  const readyAt = performance.now();
  await applyMigrations(mf, spec.configPath);
  const probeAt = performance.now();
  const { path, method, headers, body } = spec.probe;
  const response = await fetch(url + path, { method, headers, body });
  const text = await response.text();
  const doneAt = performance.now();
  if (!response.ok) throw new Error(`first request answered ${response.status}: ${text.slice(0, 500)}`);
  return { mf, url, sample: { ready_ms: readyAt - startedAt, first_request_ms: doneAt - probeAt } };
}

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as HostSpec;
  const startup: StartupSample[] = [];
  let running: { mf: Miniflare; url: string } | undefined;
  for (let trial = 0; trial < Math.max(1, spec.startupTrials); trial++) {
    await running?.mf.dispose();
    const started = await coldStart(spec);
    startup.push(started.sample);
    running = started;
  }
  const { mf, url } = running!;
  if (!spec.keepRunning) {
    await mf.dispose();
    process.stdout.write(`${JSON.stringify({ startup } satisfies HostTimed)}\n`);
    return;
  }
  const pid = findDescendant(process.pid, "workerd");
  if (pid === null) throw new Error("no workerd process found under the Miniflare host");
  process.stdout.write(`${JSON.stringify({ url, pid, startup } satisfies HostReady)}\n`);
  const stop = () => void mf.dispose().finally(() => process.exit(0));
  process.stdin.on("end", stop).on("close", stop).resume();
  process.once("SIGTERM", stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(`worker host failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
