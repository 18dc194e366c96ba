/**
 * @module dev-stack
 * Starts `npm run dev` (the real stack: simulator + wrangler dev) on free
 * loopback ports for end-to-end tests, and stops it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { tokenFromDevVars } from "../../scripts/admin";

export interface DevStack {
  url: string;
  simUrl: string;
  devKey: string;
  log: () => string;
  stop(): Promise<void>;
}

/** Where the kernel's ephemeral ports start when /proc does not say (Linux's default range is 32768-60999). */
const DEFAULT_EPHEMERAL_LOW_PORT = 32768;
/** The lowest port handed out: above the well-known and most registered services' ports. */
const LOWEST_TEST_PORT = 10_000;

/** The low end of the kernel's ephemeral range: every outgoing connection and every listen(0) takes a port at or above it. */
function ephemeralLowPort(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST_TEST_PORT + 1000 ? low : DEFAULT_EPHEMERAL_LOW_PORT;
  } catch {
    return DEFAULT_EPHEMERAL_LOW_PORT;
  }
}

function listensOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A port that is free now and that nothing else will take before our server
 * binds it. It is chosen below the kernel's ephemeral range: a port from
 * listen(0) is in that range, so between our closing it and wrangler binding
 * it (seconds later, after the migrations) any outgoing connection on the
 * machine could take it as its local port ("Address already in use"). Below
 * the range only another explicit chooser could, and the random pick makes
 * that a 1-in-thousands coincidence that the bind check then catches.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLowPort() - 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOWEST_TEST_PORT + Math.floor(Math.random() * (high - LOWEST_TEST_PORT));
    if (await listensOn(port)) return port;
  }
  throw new Error(`no free port between ${LOWEST_TEST_PORT} and ${high}`);
}

/**
 * Starts the stack and resolves once it printed its ready line. `detached`
 * puts it in its own process group, so a Ctrl-C meant for the caller (which
 * stops it with stop()) does not stop it under requests still in flight.
 */
export async function startDevStack(env: Record<string, string> = {}, options: { detached?: boolean } = {}): Promise<DevStack> {
  const [port, simPort] = [await freePort(), await freePort()];
  const root = join(import.meta.dirname, "..", "..");
  const child: ChildProcess = spawn(join(root, "node_modules", ".bin", "node"), ["--import", "tsx", "scripts/dev.ts"], {
    cwd: root,
    // Tests want answers at once unless they slow the simulator down themselves.
    env: { ...process.env, PORT: String(port), SIM_PORT: String(simPort), SIM_TOKENS_PER_SECOND: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
  });
  let output = "";
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      const key = /Dev API key: (\S+)/.exec(output);
      if (key) resolve(key[1]!);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`npm run dev exited with ${code}:\n${output}`)));
  });
  const devKey = await ready;
  return {
    url: `http://127.0.0.1:${port}`,
    simUrl: `http://127.0.0.1:${simPort}`,
    devKey,
    log: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Calls the admin API of a running stack: `admin<T>(method, path, body?)`, throwing on a non-2xx. */
export type AdminCall = <T>(method: string, path: string, body?: unknown) => Promise<T>;

export function adminClient(url: string, token: string): AdminCall {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
}

/** A fetch that records each answer's time, status and Retry-After (ms), to check that a client's retries honour it. */
export function recordingFetch(): { calls: { at: number; status: number; retryAfterMs: number }[]; fetch: typeof fetch } {
  const calls: { at: number; status: number; retryAfterMs: number }[] = [];
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const ms = Number(res.headers.get("retry-after-ms") ?? Number(res.headers.get("retry-after")) * 1000);
    calls.push({ at: Date.now(), status: res.status, retryAfterMs: ms });
    return res;
  };
  return { calls, fetch: recording };
}

/** The admin token of the stack: npm run dev writes ADMIN_TOKEN into .dev.vars from the example when it is missing. */
export function devAdminToken(): string {
  const token = tokenFromDevVars(readFileSync(join(import.meta.dirname, "..", "..", ".dev.vars"), "utf8"));
  if (!token) throw new Error("no ADMIN_TOKEN in .dev.vars");
  return token;
}

/** The simulator's counters (`GET /sim/stats`). */
export interface SimStats {
  aborted_total: number;
  in_flight: number;
  requests_total: number;
  running: number;
  tokens_generated_total: number;
}

export async function simStats(simUrl: string): Promise<SimStats> {
  return (await (await fetch(`${simUrl}/sim/stats`)).json()) as SimStats;
}

/**
 * Polls the simulator until it has aborted a generation since `before` and has
 * nothing left in flight, or `timeoutMs` has passed; the last counters it read.
 */
export async function untilSimAborted(simUrl: string, before: SimStats, timeoutMs = 20_000): Promise<SimStats> {
  const deadline = Date.now() + timeoutMs;
  let after = await simStats(simUrl);
  while ((after.aborted_total === before.aborted_total || after.in_flight !== 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    after = await simStats(simUrl);
  }
  return after;
}
