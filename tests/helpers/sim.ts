/**
 * @module helpers/sim
 * A fresh, isolated simulator instance per test (`/i/<uuid>` on the shared
 * Node simulator), with its control plane: configure knobs, read counters,
 * and wait until every generation it accepted has ended. Runs inside workerd.
 */
import { inject } from "vitest";
import type { SimConfigPatch, SimStats } from "../../gpu/sim/simulator";
import { SseSplitter, sseData } from "../../shared/sse";

export type { SimConfigPatch, SimStats };

export interface SimHandle {
  /** Base URL of this test's instance (what a backend `url` holds), without `/v1`. */
  url: string;
  /** Sets knobs (`null` returns one to its default); throws if the simulator refuses. */
  configure(patch: SimConfigPatch): Promise<void>;
  stats(): Promise<SimStats>;
  /** Polls until nothing is in flight (bounded); returns the final stats. */
  waitForIdle(options?: { timeoutMs?: number }): Promise<SimStats>;
}

/** How long waitForIdle waits by default, in ms: far above any sim test's run time. */
const IDLE_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 10;

/** A new isolated simulator instance; nothing else ever addresses it. */
export function newSim(): SimHandle {
  const url = `${inject("simUrl")}/i/${crypto.randomUUID()}`;
  const stats = async (): Promise<SimStats> => {
    const res = await fetch(`${url}/sim/stats`);
    if (!res.ok) throw new Error(`sim stats: HTTP ${res.status}`);
    return (await res.json()) as SimStats;
  };
  return {
    url,
    stats,
    async configure(patch) {
      const res = await fetch(`${url}/sim/config`, { method: "POST", body: JSON.stringify(patch) });
      if (!res.ok) throw new Error(`sim config refused (${res.status}): ${await res.text()}`);
      await res.body?.cancel();
    },
    async waitForIdle({ timeoutMs = IDLE_TIMEOUT_MS } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await stats();
        if (s.in_flight === 0) return s;
        if (Date.now() > deadline) throw new Error(`sim still busy after ${timeoutMs} ms: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
      }
    },
  };
}

/** Polls `read` until `done` holds (bounded); for states other than idle. */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = IDLE_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met after ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}

/**
 * Reads an SSE body to its end: the data of every event (`[DONE]` included),
 * and the read error if the stream broke instead of ending.
 */
export async function readSse(res: Response): Promise<{ data: string[]; error: unknown }> {
  if (!res.body) return { data: [], error: null };
  const splitter = new SseSplitter();
  const decoder = new TextDecoder();
  const data: string[] = [];
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const event of splitter.push(decoder.decode(value, { stream: true }))) {
        const d = sseData(event);
        if (d !== null) data.push(d);
      }
    }
    return { data, error: null };
  } catch (error) {
    return { data, error };
  }
}

/** The data of every event of a stream that must end cleanly. */
export async function readSseData(res: Response): Promise<string[]> {
  const { data, error } = await readSse(res);
  if (error) throw error;
  return data;
}

declare module "vitest" {
  export interface ProvidedContext {
    simUrl: string;
  }
}
