/**
 * @module node-server
 * Runs the simulator under Node: `npm run sim` from the command line, or
 * `startSimServer()` from the tests' global setup, `npm run dev` and the
 * benchmarks. A small node:http adapter rather than @hono/node-server, because
 * the simulator needs two things spelled out exactly: a client that leaves
 * cancels the response stream (so the generation stops and is counted as
 * aborted), and a body stream that errors cuts the connection without a
 * terminating chunk and without logging (drop_after_tokens is intended).
 *
 * Environment for `npm run sim`: SIM_HOST (127.0.0.1), SIM_PORT (8000; 0 picks
 * a free port), SIM_TTFT_MS, SIM_TOKENS_PER_SECOND, SIM_MIN_TOKENS (the
 * `min_tokens` knob: every answer at least this long), SIM_STREAM_INTERVAL
 * (the `stream_interval` knob, vLLM's `--stream-interval`; `npm run sim` and
 * `npm run dev` default to the deployment's VLLM_STREAM_INTERVAL, 8, other
 * callers to vLLM's 1), SIM_MODAL_KEY and SIM_MODAL_SECRET (expected
 * proxy-auth values; setting both also turns require_proxy_auth on by default).
 *
 * The GPU fleet model (gpu/sim/fleet, off by default): SIM_PROFILE
 * (`h200-bf16` or `h100-fp8`: every instance becomes a Modal deployment of
 * vLLM), SIM_TIME_SCALE (simulated seconds per wall second, default 1),
 * SIM_MIN_CONTAINERS, SIM_MAX_CONTAINERS, SIM_MODAL_FRONT (`web_function` or
 * `server`), SIM_GPU_SNAPSHOT (1 = snapshot boots). `startSimFleet()` starts
 * K such deployments on loopback for fleet experiments.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { realpathSync } from "node:fs";
import { once } from "node:events";
import { pathToFileURL } from "node:url";
import { VLLM_STREAM_INTERVAL } from "../../shared/constants";
import { loadShippedProblems } from "./problem-files";
import { fleetDefaultsFromEnv } from "./fleet/fleet-env";
import { summarizeDeployment, type DeploymentSummary } from "./fleet/fleet-summary";
import type { CallRecord } from "./fleet/modal-edge";
import type { GpuProfileName } from "./perf/profiles";
import { createSimulator, type SimConfigPatch, type Simulator, type SimulatorOptions, type SimStats } from "./simulator";

export interface SimServerOptions extends SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
}

export interface SimServer {
  /** `http://host:port`, without a trailing slash. */
  url: string;
  /** Stops listening and closes every connection, streams in progress included. */
  close(): Promise<void>;
}

/** Largest request body read, in bytes: a full 32k-token prompt is far below. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Longest wait for written chunks to flush before a simulated drop, in ms. */
const FLUSH_BEFORE_DROP_MS = 1000;
/** Connection-level headers that must not be copied into a fetch Request. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]);

/** Starts the simulator on `host:port`; resolves once it listens. */
export async function startSimServer(options: SimServerOptions = {}): Promise<SimServer> {
  const { host = "127.0.0.1", port = 8000, ...simOptions } = options;
  // The oracle's problem index: read here, never bundled into the Worker's embedded simulator.
  const sim = createSimulator({ problems: loadShippedProblems(), ...simOptions });
  const server = createServer((req, res) => void serve(sim, req, res));
  // A hung or slow generation is the point of some tests: never time requests out here.
  server.requestTimeout = 0;
  server.listen(port, host);
  await once(server, "listening");
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("simulator: no TCP address");
  const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostPart}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** How simOptionsFromEnv fills what the environment leaves unset. */
export interface SimEnvOptions {
  /**
   * Knobs that stand for vLLM's serve flags (`stream_interval`) default to
   * what gpu/modal_app.py deploys (shared/constants.ts) instead of vLLM's own
   * defaults: for `npm run sim` and `npm run dev`, which stand in for the
   * deployment. Default false (the tests' and benchmarks' simulators).
   */
  asDeployed?: boolean;
}

/** Reads SIM_* variables into simulator options (for `npm run sim` and scripts that want them). */
export function simOptionsFromEnv(env: NodeJS.ProcessEnv, { asDeployed = false }: SimEnvOptions = {}): SimulatorOptions {
  const defaults: NonNullable<SimulatorOptions["defaults"]> = {};
  const num = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
    return value;
  };
  const ttft = num("SIM_TTFT_MS");
  const tps = num("SIM_TOKENS_PER_SECOND");
  if (ttft !== undefined) defaults.ttft_ms = ttft;
  if (tps !== undefined) defaults.tokens_per_second = tps;
  const minTokens = num("SIM_MIN_TOKENS");
  if (minTokens !== undefined) {
    if (!Number.isInteger(minTokens)) throw new Error(`SIM_MIN_TOKENS must be a whole number, got ${env.SIM_MIN_TOKENS}`);
    defaults.min_tokens = minTokens;
  }
  const streamInterval = num("SIM_STREAM_INTERVAL");
  if (streamInterval !== undefined) {
    if (!Number.isInteger(streamInterval) || streamInterval < 1) {
      throw new Error(`SIM_STREAM_INTERVAL must be a whole number >= 1, got ${env.SIM_STREAM_INTERVAL}`);
    }
    defaults.stream_interval = streamInterval;
  } else if (asDeployed) {
    defaults.stream_interval = VLLM_STREAM_INTERVAL;
  }
  Object.assign(defaults, fleetDefaultsFromEnv(env));
  const key = env.SIM_MODAL_KEY;
  const secret = env.SIM_MODAL_SECRET;
  if (!key || !secret) return { defaults };
  return { defaults: { ...defaults, require_proxy_auth: true }, proxyAuth: { key, secret } };
}

/** One simulated deployment of a fleet: a name, a GPU profile, and any other knobs. */
export interface FleetDeploymentSpec {
  name: string;
  profile: GpuProfileName;
  /** More `/sim/config` knobs: min_containers, max_inputs, container_loss_per_hour, ... */
  config?: SimConfigPatch;
}

export interface SimFleetOptions extends SimServerOptions {
  deployments: readonly FleetDeploymentSpec[];
  /** SIM_TIME_SCALE for every deployment (default 1). */
  timeScale?: number;
}

export interface SimFleet {
  /** Each deployment's base URL (what a Worker backend `url` holds) and profile. */
  deployments: { name: string; url: string; profile: GpuProfileName }[];
  /** Raw `/sim/stats` per deployment name. */
  stats(): Promise<Record<string, SimStats>>;
  /** Preemptions, edge-queued time, 303s, utilisation, tokens and billed seconds per deployment name. */
  summary(): Promise<Record<string, DeploymentSummary>>;
  /** Each generation call's timeline at Modal's edge (`/sim/calls`), per deployment name. */
  calls(): Promise<Record<string, CallRecord[]>>;
  /** Loses a warm container of one deployment (the busiest, or `id`); resolves to its id, or null if none was warm. */
  loseContainer(name: string, id?: string): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * Starts K simulated Modal deployments of vLLM on one loopback server, one
 * isolated instance each (`<url>/i/<name>`), configured with their profile
 * and knobs before the first request.
 */
export async function startSimFleet(options: SimFleetOptions): Promise<SimFleet> {
  const { deployments: specs, timeScale = 1, port = 0, ...serverOptions } = options;
  const names = new Set(specs.map((d) => d.name));
  if (names.size !== specs.length) throw new Error("startSimFleet: deployment names must be unique");
  const server = await startSimServer({ ...serverOptions, port });
  const deployments = specs.map((d) => ({ name: d.name, url: `${server.url}/i/${encodeURIComponent(d.name)}`, profile: d.profile }));
  const control = async (url: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${url}${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  try {
    for (const [i, d] of deployments.entries()) {
      const res = await control(d.url, "/sim/config", { ...specs[i]?.config, profile: d.profile, time_scale: timeScale });
      if (!res.ok) throw new Error(`startSimFleet: ${d.name} refused its config: ${await res.text()}`);
    }
  } catch (err) {
    await server.close();
    throw err;
  }
  const stats = async () =>
    Object.fromEntries(await Promise.all(deployments.map(async (d) => [d.name, (await (await control(d.url, "/sim/stats")).json()) as SimStats] as const)));
  return {
    deployments,
    stats,
    async summary() {
      const all = await stats();
      return Object.fromEntries(Object.entries(all).map(([name, s]) => [name, summarizeDeployment(s) as DeploymentSummary]));
    },
    async calls() {
      return Object.fromEntries(
        await Promise.all(deployments.map(async (d) => [d.name, (await (await control(d.url, "/sim/calls")).json()) as CallRecord[]] as const)),
      );
    },
    async loseContainer(name, id) {
      const d = deployments.find((x) => x.name === name);
      if (!d) throw new Error(`startSimFleet: no deployment ${name}`);
      const res = await control(d.url, "/sim/containers/lose", id === undefined ? {} : { id });
      return res.ok ? ((await res.json()) as { lost: string }).lost : null;
    },
    close: () => server.close(),
  };
}

async function serve(sim: Simulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // The client is gone when the response closes before it finished.
  const clientGone = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) clientGone.abort(new Error("client disconnected"));
  });
  try {
    const body = await readBody(req);
    if (body === null) {
      res.writeHead(413).end();
      return;
    }
    const requestHeaders = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i] as string;
      if (!HOP_BY_HOP.has(name.toLowerCase())) requestHeaders.append(name, req.rawHeaders[i + 1] as string);
    }
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(url, {
      method: req.method,
      headers: requestHeaders,
      body: hasBody ? body : undefined,
      signal: clientGone.signal,
    });
    const response = await sim.fetch(request);
    if (res.destroyed) {
      await response.body?.cancel().catch(() => {});
      return;
    }
    const headers = Object.fromEntries(response.headers);
    if (!response.body) {
      // An empty body says so, as uvicorn does, instead of an empty chunked one.
      const empty = response.status === 204 || response.status === 304 ? {} : { "content-length": "0" };
      res.writeHead(response.status, { ...headers, ...empty }).end();
      return;
    }
    res.writeHead(response.status, headers);
    res.flushHeaders();
    await pipe(response.body, res);
  } catch (err) {
    // A simulator bug, not a simulated failure: say so, once.
    console.error("simulator: request failed:", err);
    if (!res.headersSent) res.writeHead(500).end();
    else res.destroy();
  }
}

/** Whole body, or null when it exceeds MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer> | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Copies a body to the socket, one read per write and waiting for `drain`, so
 * the simulator's pull-based stream produces only what the client takes.
 */
async function pipe(body: ReadableStream<Uint8Array>, res: ServerResponse): Promise<void> {
  const reader = body.getReader();
  // Cancelling the reader runs the stream's cancel(): the generation stops now.
  const onClose = () => void reader.cancel(new Error("client disconnected")).catch(() => {});
  res.once("close", onClose);
  // Resolves once everything written so far reached the kernel.
  let flushed: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      let ok = true;
      flushed = new Promise<void>((resolve) => {
        ok = res.write(value, () => resolve());
      });
      if (!ok) await Promise.race([once(res, "drain"), once(res, "close")]);
    }
    res.end();
  } catch {
    // The body errored (drop_after_tokens): let the chunks already written
    // reach the client, then close the socket with no terminating chunk, so
    // the client sees a broken stream rather than an end. destroy() alone
    // would discard the unflushed chunks.
    await Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, FLUSH_BEFORE_DROP_MS))]);
    res.destroy();
  } finally {
    res.off("close", onClose);
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const server = await startSimServer({
    host: process.env.SIM_HOST || "127.0.0.1",
    port: Number(process.env.SIM_PORT ?? 8000),
    ...simOptionsFromEnv(process.env, { asDeployed: true }),
  });
  console.log(`LIMO simulator listening on ${server.url}`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (isMain()) {
  main().catch((err: unknown) => {
    console.error(`simulator failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
