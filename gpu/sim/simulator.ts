/**
 * @module simulator
 * A vLLM-compatible OpenAI server for LIMO, small enough to run anywhere a
 * `fetch(Request)` handler runs (Node via node-server.ts, or workerd): only
 * Web APIs here. `/<path>` is the default instance; `/i/<id>/<path>` is an
 * isolated instance created on first use, so concurrent tests never share
 * config, counters or queues. An instance with a GPU `profile` is a modelled
 * Modal deployment of vLLM (gpu/sim/fleet): requests pass Modal's edge
 * (proxy auth, the queue, the 150 s cut) before the container's vLLM answers.
 */
import { MAX_MODEL_LEN_TOKENS, MODAL_KEY_HEADER, MODAL_SECRET_HEADER, MODEL_CATALOGUE } from "../../shared/constants";
import { parseConfigPatch, resolveDefaults, type SimConfig } from "./config";
import { scaledClock, type SimClock } from "./fleet/clock";
import { Fleet } from "./fleet/fleet";
import { deploymentSettings } from "./fleet/fleet-config";
import { handleGeneration, type GenerationEnv } from "./generation";
import { SimInstance } from "./instance";
import type { ProblemIndex } from "./oracle";
import { renderEngineMetrics, renderMetrics, renderModels } from "./metrics";
import { errorResponse, json, methodNotAllowed, notFound, readJson } from "./responses";

export type { SimConfig, SimConfigPatch } from "./config";
export type { SimStats, LastRequest } from "./instance";
export type { FleetStats } from "./fleet/fleet";

export interface SimulatorOptions {
  /** Served model names; default: every model in MODEL_CATALOGUE. */
  models?: string[];
  /** Context window in tokens; default MAX_MODEL_LEN_TOKENS. */
  maxModelLen?: number;
  /** Config every instance starts with and returns to on `null` / reset. */
  defaults?: Partial<SimConfig>;
  /** Expected Modal proxy-auth values; without them any non-empty pair passes. */
  proxyAuth?: { key: string; secret: string };
  /** The shipped evaluation problems for oracle mode (the Node server loads them); none: oracle mode changes nothing. */
  problems?: ProblemIndex;
  /** The clock each fleet deployment runs on, given its `time_scale`; default: wall time scaled. Tests pass a VirtualClock. */
  fleetClock?: (timeScale: number) => SimClock;
}

export interface Simulator {
  fetch(request: Request): Promise<Response>;
}

/** Instances kept at most; the least recently used idle one goes first. */
const MAX_INSTANCES = 1000;
/** Instance ids: a uuid or any short token that is safe in a URL path. */
const INSTANCE_ID = /^[A-Za-z0-9_.-]{1,128}$/;
const GENERATION_PATHS: Record<string, "chat" | "completion"> = {
  "/v1/chat/completions": "chat",
  "/v1/completions": "completion",
};

/** Creates a simulator; its state lives as long as the returned object. */
export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const models = options.models ?? MODEL_CATALOGUE.map((m) => m.servedName);
  const maxModelLen = options.maxModelLen ?? MAX_MODEL_LEN_TOKENS;
  const defaults = resolveDefaults(options.defaults);
  const created = Math.floor(Date.now() / 1000);
  const instances = new Map<string, SimInstance>();
  let counter = 0;
  const env: GenerationEnv = { models, maxModelLen, nonce: () => `${++counter}:${Math.random()}`, problems: options.problems ?? null };
  const fleetClock = options.fleetClock ?? ((scale: number) => scaledClock(scale));

  /** The instance's modelled deployment, built on first use; null without a profile. */
  function fleetFor(inst: SimInstance): Fleet | null {
    if (inst.fleet) return inst.fleet;
    const settings = deploymentSettings(inst.config);
    if (!settings) return null;
    inst.fleet = new Fleet(settings, fleetClock(inst.config.time_scale));
    return inst.fleet;
  }

  function instanceFor(id: string): SimInstance {
    let inst = instances.get(id);
    if (inst) instances.delete(id); // re-inserted below: Map order is recency order
    inst ??= new SimInstance(defaults);
    inst.lastUsedAt = Date.now();
    instances.set(id, inst);
    if (instances.size > MAX_INSTANCES) evictIdle();
    return inst;
  }

  function evictIdle(): void {
    for (const [id, inst] of instances) {
      if (id !== "" && inst.active.size === 0) {
        instances.delete(id);
        return;
      }
    }
  }

  function checkProxyAuth(request: Request): Response | null {
    const key = request.headers.get(MODAL_KEY_HEADER);
    const secret = request.headers.get(MODAL_SECRET_HEADER);
    // Modal's edge answers this, not vLLM: plain text, not an error envelope.
    if (!key || !secret) return new Response("modal-http: missing credentials for proxy authorization", { status: 401 });
    const expected = options.proxyAuth;
    if (expected && (key !== expected.key || secret !== expected.secret)) {
      return new Response("modal-http: invalid credentials for proxy authorization", { status: 401 });
    }
    return null;
  }

  async function route(request: Request, inst: SimInstance, path: string): Promise<Response> {
    const method = request.method;
    if (path.startsWith("/sim/")) return simRoute(request, inst, path, fleetFor(inst));
    const kind = GENERATION_PATHS[path];
    if (kind && method === "POST") inst.counters.requests_total++;
    const refuse = (response: Response) => {
      if (kind && method === "POST") inst.counters.rejected_total++;
      return response;
    };
    const fleet = fleetFor(inst);
    if (fleet) {
      // Modal's edge guards every path; then the call waits for a container, whose vLLM answers.
      const refused = inst.config.require_proxy_auth ? checkProxyAuth(request) : null;
      if (refused) return refuse(refused);
      return fleet.edge.handle(request, (req, slot) => serve(req, inst.forContainer(slot.container), path));
    }
    if (inst.config.require_proxy_auth && path.startsWith("/v1/")) {
      const refused = checkProxyAuth(request);
      if (refused) return refuse(refused);
    }
    if (inst.isCold(Date.now())) return refuse(errorResponse(503, "The model server is starting (simulated cold start)."));
    return serve(request, inst, path);
  }

  /** The vLLM server itself: fail_status, then the endpoints. In fleet mode `inst` is a container's view. */
  async function serve(request: Request, inst: SimInstance, path: string): Promise<Response> {
    const method = request.method;
    const kind = GENERATION_PATHS[path];
    const { fail_status: failStatus } = inst.config;
    if (failStatus !== null && (path.startsWith("/v1/") || path === "/health")) {
      if (kind && method === "POST") inst.counters.rejected_total++;
      return errorResponse(failStatus, `Simulated failure (fail_status ${failStatus}).`);
    }
    if (kind) return method === "POST" ? handleGeneration(request, inst, kind, env) : methodNotAllowed();
    if (path === "/health") return method === "GET" ? new Response(null, { status: 200 }) : methodNotAllowed();
    if (path === "/v1/models") return method === "GET" ? json(renderModels(models, maxModelLen, created)) : methodNotAllowed();
    if (path === "/metrics") {
      if (method !== "GET") return methodNotAllowed();
      const headers = { "content-type": "text/plain; version=0.0.4; charset=utf-8" };
      const text = inst.container ? renderEngineMetrics(inst.container.engine, models) : renderMetrics(inst, models, maxModelLen);
      return new Response(text, { headers });
    }
    return notFound();
  }

  return {
    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url);
      let path = url.pathname;
      let id = "";
      if (path.startsWith("/i/")) {
        const slash = path.indexOf("/", 3);
        id = slash === -1 ? path.slice(3) : path.slice(3, slash);
        path = slash === -1 ? "/" : path.slice(slash);
        if (!INSTANCE_ID.test(id)) return notFound();
      }
      return route(request, instanceFor(id), path);
    },
  };
}

/** `/sim/config`, `/sim/reset`, `/sim/stats`, `/sim/calls`, `/sim/containers`: the test-facing control plane. */
async function simRoute(request: Request, inst: SimInstance, path: string, fleet: Fleet | null): Promise<Response> {
  const method = request.method;
  if (path === "/sim/config") {
    if (method === "GET") return json(inst.config);
    if (method !== "POST") return methodNotAllowed();
    const body = await readJson(request);
    if (body === undefined) return errorResponse(400, "The request body is not valid JSON.");
    const parsed = parseConfigPatch(body);
    if (!parsed.ok) return errorResponse(400, parsed.message);
    return json(inst.configure(parsed.patch));
  }
  if (path === "/sim/reset") {
    if (method !== "POST") return methodNotAllowed();
    inst.reset();
    return json(inst.config);
  }
  if (path === "/sim/stats") return method === "GET" ? json(inst.stats()) : methodNotAllowed();
  if (path === "/sim/calls") return method === "GET" ? json(fleet?.edge.callRecords ?? []) : methodNotAllowed();
  if (path === "/sim/containers") return method === "GET" ? json(fleet?.deployment.containerStats() ?? []) : methodNotAllowed();
  if (path === "/sim/containers/lose") {
    if (method !== "POST") return methodNotAllowed();
    if (!fleet) return errorResponse(409, "This instance has no fleet: set a GPU `profile` first.");
    const body = (await readJson(request)) as { id?: unknown } | undefined;
    const id = typeof body?.id === "string" ? body.id : undefined;
    const lost = fleet.deployment.loseContainer(id);
    return lost ? json({ lost: lost.id }) : errorResponse(409, id ? `No warm container ${id}.` : "No warm container to lose.");
  }
  return notFound();
}
