/**
 * @module eval-stack
 * The API the harness talks to. With no --base-url it starts the local stack
 * (the simulator and `wrangler dev` on free ports, exactly as the end-to-end
 * tests do, tests/node/dev-stack.ts) with the simulator at full speed and
 * uses its dev key; `--oracle-accuracy` turns on the simulator's oracle
 * (`POST /sim/config {"oracle": ...}`), whose own count (`GET /sim/stats`)
 * the report shows beside ours. It also reads what an API says about itself.
 */
import { startDevStack } from "../../tests/node/dev-stack";
import type { ApiFacts, SimulatorFacts } from "./report";

/** Our API's OpenAPI title: costs and ledger semantics are known for it. */
const OUR_API_TITLE = "LIMO Reasoning API";
/** The embedded simulator's pace: 0 = as fast as it can (SIM_TOKENS_PER_SECOND overrides it for a demo). */
const EMBEDDED_SIM_TOKENS_PER_SECOND = "0";

export interface EmbeddedStack {
  baseUrl: string;
  apiKey: string;
  simUrl: string;
  stop(): Promise<void>;
}

/** Starts the stack and, when asked, the oracle; resolves once the API answers. */
export async function startEmbeddedStack(oracle: { accuracy: number; seed: number } | null): Promise<EmbeddedStack> {
  // Detached: the first Ctrl-C lets the requests in flight finish, so the stack must outlive it.
  const stack = await startDevStack(
    { SIM_TOKENS_PER_SECOND: process.env.SIM_TOKENS_PER_SECOND ?? EMBEDDED_SIM_TOKENS_PER_SECOND, WRANGLER_LOG: "warn" },
    { detached: true },
  );
  try {
    if (oracle) await configureOracle(stack.simUrl, oracle);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return { baseUrl: `${stack.url}/v1`, apiKey: stack.devKey, simUrl: stack.simUrl, stop: () => stack.stop() };
}

/** Turns the simulator's oracle on; a simulator without one answers 400, said plainly. */
export async function configureOracle(simUrl: string, oracle: { accuracy: number; seed: number }): Promise<void> {
  const res = await fetch(`${simUrl}/sim/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ oracle }),
  });
  if (!res.ok) throw new Error(`the simulator refused the oracle (${res.status}): ${await res.text()}`);
}

/** The oracle's own count of right and wrong answers. */
export async function readOracleStats(simUrl: string, oracle: { accuracy: number; seed: number }): Promise<SimulatorFacts> {
  const res = await fetch(`${simUrl}/sim/stats`);
  if (!res.ok) throw new Error(`GET /sim/stats: ${res.status}`);
  const stats = (await res.json()) as { oracle_correct?: number; oracle_wrong?: number };
  if (typeof stats.oracle_correct !== "number" || typeof stats.oracle_wrong !== "number") {
    throw new Error("the simulator's /sim/stats has no oracle_correct / oracle_wrong");
  }
  return { oracle, oracle_correct: stats.oracle_correct, oracle_wrong: stats.oracle_wrong };
}

/** The API's title and version from its /openapi.json (at the origin), when it serves one. */
export async function readApiFacts(baseUrl: string, fetchImpl: typeof fetch): Promise<ApiFacts> {
  const facts: ApiFacts = { base_url: baseUrl, title: null, version: null, ours: false };
  try {
    const res = await fetchImpl(new URL("/openapi.json", baseUrl), { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return facts;
    const info = ((await res.json()) as { info?: { title?: unknown; version?: unknown } }).info;
    facts.title = typeof info?.title === "string" ? info.title : null;
    facts.version = typeof info?.version === "string" ? info.version : null;
    facts.ours = facts.title === OUR_API_TITLE;
  } catch {
    // Not every provider serves a document: the report says "-".
  }
  return facts;
}
