/**
 * @module load
 * The two clients: a sequential one (one connection, kept alive) that times
 * each request to its first body byte and to its end, for latency at
 * concurrency 1; and autocannon for throughput under concurrency.
 */
import { Agent, request as httpRequest } from "node:http";
import autocannon from "autocannon";

/** One HTTP request, the same bytes whichever target it goes to. */
export interface RequestSpec {
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface Timed {
  status: number;
  /** Request start to the first byte of the body, ms. */
  ttfbMs: number;
  /** Request start to the end of the body, ms. */
  totalMs: number;
  bytes: number;
  /** SSE events (blank-line-terminated blocks) in the body. */
  events: number;
  /** The last bytes of the body, for checks (the usage chunk of a stream). */
  tail: string;
  /** Response headers, lower-cased names (e.g. `x-cache`, `x-ratelimit-limit-requests`). */
  headers: Record<string, string>;
}

/** Bytes of a body's end kept in `Timed.tail`. */
const TAIL_CHARS = 1024;

function send(agent: Agent, base: URL, spec: RequestSpec): Promise<Timed> {
  return new Promise<Timed>((resolve, reject) => {
    const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
    const headers = body ? { ...spec.headers, "content-length": String(body.length) } : spec.headers;
    const startedAt = performance.now();
    const req = httpRequest(
      { agent, host: base.hostname, port: base.port, path: spec.path, method: spec.method, headers },
      (res) => {
        let firstByteAt = 0;
        let bytes = 0;
        let events = 0;
        let tail = "";
        res.on("data", (chunk: Buffer) => {
          firstByteAt ||= performance.now();
          bytes += chunk.length;
          // Keep one character of the previous chunk: a "\n\n" may straddle two reads.
          const text = tail.slice(-1) + chunk.toString("latin1");
          for (let i = text.indexOf("\n\n"); i !== -1; i = text.indexOf("\n\n", i + 2)) events++;
          tail = (tail + chunk.toString("latin1")).slice(-TAIL_CHARS);
        });
        res.once("end", () => {
          const endedAt = performance.now();
          resolve({
            status: res.statusCode ?? 0,
            ttfbMs: (firstByteAt || endedAt) - startedAt,
            totalMs: endedAt - startedAt,
            bytes,
            events,
            tail,
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : String(value ?? "")]),
            ),
          });
        });
        res.once("error", reject);
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}

/** Sends `count` requests one after another on one kept-alive connection; throws on any non-2xx. */
export async function sequential(baseUrl: string, spec: RequestSpec, count: number): Promise<Timed[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(baseUrl);
  const results: Timed[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const timed = await send(agent, base, spec);
      if (timed.status < 200 || timed.status >= 300) {
        throw new Error(`${spec.method} ${baseUrl}${spec.path} answered ${timed.status}: ${timed.tail.slice(0, 500)}`);
      }
      results.push(timed);
    }
  } finally {
    agent.destroy();
  }
  return results;
}

export interface Throughput {
  /** Completed 2xx responses per second of the run. */
  rps: number;
  completed: number;
  durationS: number;
  bytes: number;
}

/**
 * Sends exactly `amount` requests over `connections` connections with
 * autocannon; throws on any failure. The run is timed from the call to the
 * last response: autocannon itself only notices the end at its next
 * one-second sample, which would round every duration up to whole seconds.
 */
export async function throughput(baseUrl: string, spec: RequestSpec, connections: number, amount: number): Promise<Throughput> {
  const startedAt = performance.now();
  let lastResponseAt = startedAt;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: baseUrl + spec.path,
        method: spec.method,
        headers: spec.headers,
        body: spec.body,
        connections,
        amount,
        pipelining: 1,
        // A stream at concurrency 8 can take seconds; a stuck one is a failure, not a wait.
        timeout: 60,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on("response", () => (lastResponseAt = performance.now()));
  });
  const failures = result.non2xx + result.errors + result.timeouts;
  if (failures > 0 || result["2xx"] !== amount) {
    throw new Error(
      `autocannon against ${baseUrl}${spec.path}: ${result["2xx"]} of ${amount} succeeded ` +
        `(${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts)`,
    );
  }
  const durationS = (lastResponseAt - startedAt) / 1000;
  return { rps: result["2xx"] / durationS, completed: result["2xx"], durationS, bytes: result.throughput.total };
}
