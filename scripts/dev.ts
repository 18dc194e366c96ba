/**
 * `npm run dev`: the whole stack on loopback with no other step after `npm ci`.
 * Starts the vLLM simulator (unless BACKENDS names other backends), applies
 * local D1 migrations, runs `wrangler dev` with BACKENDS pointing at the
 * simulator, waits until the API answers, prints the URL and the dev key, and
 * stops everything on Ctrl-C or SIGTERM. One `wrangler dev` runs both Workers:
 * the API (wrangler.toml, first: it gets the port) and the checker Worker
 * (checker/wrangler.toml) behind its `CHECKER` service binding.
 *
 * Environment: PORT (Worker, default 8787), SIM_PORT (simulator, default 8000),
 * SIM_TOKENS_PER_SECOND (its pace, default 40; 0 = as fast as possible),
 * BACKENDS (JSON list: use these backends instead of starting a simulator).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MODEL_CATALOGUE } from "../shared/constants";
import { simOptionsFromEnv, startSimServer } from "../gpu/sim/node-server";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const HOST = "127.0.0.1";
const PORT = Number(process.env.PORT ?? 8787);
const SIM_PORT = Number(process.env.SIM_PORT ?? 8000);
/** The development simulator's default pace, tokens a second (SIM_TOKENS_PER_SECOND overrides it). */
const DEV_SIM_TOKENS_PER_SECOND = 40;
/** How long wrangler may take to answer /healthz, in milliseconds. */
const READY_TIMEOUT_MS = 120_000;
/** wrangler's JS entry, run with this same Node (22): its shebang would pick whatever `node` is on PATH. */
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/** `KEY=value` lines of a dotenv file, in order. */
function readDotenv(path: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (match) vars.set(match[1]!, match[2]!);
  }
  return vars;
}

/**
 * Creates .dev.vars from the example when missing, and adds settings the
 * example gained since (an older checkout's file lacks ADMIN_TOKEN, say).
 */
function ensureDevVars(): Map<string, string> {
  const devVars = join(ROOT, ".dev.vars");
  const example = join(ROOT, ".dev.vars.example");
  if (!existsSync(devVars)) {
    copyFileSync(example, devVars);
    console.log("Created .dev.vars from .dev.vars.example");
  }
  const vars = readDotenv(devVars);
  const missing = [...readDotenv(example)].filter(([name]) => !vars.has(name));
  if (missing.length > 0) {
    appendFileSync(devVars, `\n# Added from .dev.vars.example by npm run dev\n${missing.map(([k, v]) => `${k}=${v}`).join("\n")}\n`);
    for (const [k, v] of missing) vars.set(k, v);
    console.log(`Added ${missing.map(([k]) => k).join(", ")} to .dev.vars from .dev.vars.example`);
  }
  return vars;
}

function run(args: string[], options: { inherit?: boolean } = {}): ChildProcess {
  return spawn(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    stdio: options.inherit ? "inherit" : ["ignore", "inherit", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function applyMigrations(): Promise<void> {
  const config = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const binding = /\[\[d1_databases\]\][^[]*?binding\s*=\s*"([^"]+)"/s.exec(config)?.[1];
  if (!binding) return;
  const code = await exited(run(["d1", "migrations", "apply", binding, "--local"]));
  if (code !== 0) throw new Error(`applying D1 migrations failed (exit ${code})`);
}

async function waitUntilReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the Worker did not answer ${url}/healthz within ${READY_TIMEOUT_MS / 1000} s`);
}

async function main(): Promise<void> {
  const vars = ensureDevVars();
  let backends = process.env.BACKENDS;
  let sim: { url: string; close(): Promise<void> } | undefined;
  if (!backends) {
    // Tokens arrive at LIMO's pace on one GPU (30-50 a second), so streams look and behave as in production.
    const simEnv = { SIM_TOKENS_PER_SECOND: String(DEV_SIM_TOKENS_PER_SECOND), ...process.env };
    sim = await startSimServer({ ...simOptionsFromEnv(simEnv, { asDeployed: true }), host: HOST, port: SIM_PORT });
    backends = JSON.stringify([
      { name: "sim", url: sim.url, models: MODEL_CATALOGUE.map((m) => m.servedName), weight: 1, kind: "simulator" },
    ]);
    console.log(`Simulated GPU backend (vLLM-compatible) at ${sim.url}`);
  }
  await applyMigrations();

  const wrangler = run([
    "dev",
    "--config", "wrangler.toml",
    "--config", join("checker", "wrangler.toml"),
    "--ip", HOST,
    "--port", String(PORT),
    "--var", `BACKENDS:${backends}`,
    "--var", "ENVIRONMENT:development",
    // wrangler dev runs no cron: GET /__scheduled runs the health poll (vLLM's gauges on the dashboard) on demand.
    "--test-scheduled",
    "--show-interactive-dev-session=false",
  ]);
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (wrangler.exitCode === null) {
      wrangler.kill("SIGTERM");
      await Promise.race([exited(wrangler), new Promise((r) => setTimeout(r, 5_000))]);
      if (wrangler.exitCode === null) wrangler.kill("SIGKILL");
    }
    await sim?.close();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  wrangler.once("exit", (code) => void stop(code ?? 1));

  const url = `http://${HOST}:${PORT}`;
  await waitUntilReady(url, wrangler);
  console.log(`\nLIMO Reasoning API ready at ${url}/v1`);
  if (vars.has("DEV_API_KEY")) console.log(`Dev API key: ${vars.get("DEV_API_KEY")}`);
  // The admin token is never printed: the log must not hold secrets beyond the dev key.
  if (vars.has("ADMIN_TOKEN")) console.log(`Admin API at ${url}/admin/v1 (token: ADMIN_TOKEN in .dev.vars)`);
  console.log("Press Ctrl-C to stop.\n");
}

main().catch((err) => {
  console.error(`npm run dev failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
