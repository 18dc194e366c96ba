/**
 * @module scenarios
 * What the benchmark sends. A scenario is one kind of request (its body, how
 * many to send, at what concurrency) and the figures it yields; a later row
 * (admission cost, a cache hit, a resumed stream) is one more object here.
 */
import { DEFAULT_TEMPERATURE, LIMO_SYSTEM_PROMPT } from "../shared/constants";
import type { RequestSpec, Timed } from "./load";

/** How much of each phase a run does. */
export interface Effort {
  rounds: number;
  startupTrials: number;
  /** Multiplies every scenario's request counts. */
  scale: number;
  /**
   * About how long one phase against one target may last, in seconds: a slow
   * target gets fewer requests (at the pace its warm-up showed), so a run
   * stays within its time however slow the gateway gets.
   */
  phaseSeconds: number;
}

export const FULL: Effort = { rounds: 5, startupTrials: 5, scale: 1, phaseSeconds: 2.5 };
export const QUICK: Effort = { rounds: 2, startupTrials: 2, scale: 0.25, phaseSeconds: 0.5 };

/** Which API key a scenario calls the gateway with (the simulator and the floor ignore it). */
export type KeyName = "dev" | "unlimited" | "limited" | "students";

/** Where a scenario runs: "sim" the simulator directly, then the two Workers. */
export type ScenarioTarget = "sim" | "floor" | "metered" | "gateway";

export interface Scenario {
  /** Prefix of the scenario's figure keys, e.g. `stream` -> `stream_total_ms`. */
  id: string;
  /** Row label in the markdown table. */
  title: string;
  /** SSE (time to first byte and total) or one JSON body (p50 and p99). */
  stream: boolean;
  /** The targets it runs against (a gateway-only row has no floor to compare with). */
  targets: readonly ScenarioTarget[];
  /** The gateway's key: the dev key (test mode, unlimited) or one of the admin-made live keys. */
  key: KeyName;
  /** Completion tokens every answer has (the simulator fills answers to max_tokens). */
  tokens: number;
  /**
   * A response-cache row: the request is sent to the gateway once before the
   * warm-up (it must answer MISS, then HIT), every gateway response must say
   * `x-cache: HIT`, and the simulator must see no request during a gateway phase.
   */
  cached: boolean;
  /** The request, with the API key every target is sent (the simulator and the floor ignore it). */
  request(apiKey: string): RequestSpec;
  /** Fails the run when a response is not what the scenario asked for. */
  check(response: Timed, target: ScenarioTarget): string | null;
  /** Requests sent one at a time per round, for latency. */
  sequential: number;
  /** Concurrent connections and requests sent with autocannon per round, for throughput and CPU. */
  concurrency: number;
  amount: number;
  /** Key of the Worker-CPU figure: per request, or per relayed SSE event for streams. */
  cpuKey: string;
}

/**
 * A chat request as clients send it. Sampled by default (LIMO's recommended
 * temperature, no seed), so the gateway's response cache never answers it:
 * those rows are the uncached path. The system prompt is explicit, so every
 * path sends the backend the same messages.
 */
function chatRequest(apiKey: string, fields: Record<string, unknown>): RequestSpec {
  return {
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      model: "GAIR/LIMO",
      messages: [
        { role: "system", content: LIMO_SYSTEM_PROMPT },
        { role: "user", content: "What is the sum of the first 100 positive integers?" },
      ],
      temperature: DEFAULT_TEMPERATURE,
      ...fields,
    }),
  };
}

/** Checks the usage a response reports (the last usage object in its tail). */
function expectCompletionTokens(expected: number): (response: Timed) => string | null {
  return (response) => {
    const found = [...response.tail.matchAll(/"completion_tokens":(\d+)/g)].at(-1)?.[1];
    return Number(found) === expected ? null : `expected ${expected} completion tokens, the response reports ${found ?? "none"}`;
  };
}

/** All of `checks`, first problem wins. */
function allOf(...checks: ((response: Timed, target: ScenarioTarget) => string | null)[]): Scenario["check"] {
  return (response, target) => {
    for (const check of checks) {
      const problem = check(response, target);
      if (problem) return problem;
    }
    return null;
  };
}

/** The gateway must have answered from its cache. */
const expectCacheHit = (response: Timed, target: ScenarioTarget): string | null =>
  target !== "gateway" || response.headers["x-cache"] === "HIT" ? null : `expected x-cache: HIT, got ${response.headers["x-cache"] ?? "none"}`;

/** The gateway must have applied the account's limits (OpenAI's rate-limit headers say so). */
const expectLimitHeaders = (response: Timed, target: ScenarioTarget): string | null =>
  target !== "gateway" || response.headers["x-ratelimit-limit-requests"] ? null : "expected x-ratelimit-* headers from a limited account";

/** Short answers: the fixed cost of a request. */
export const NONSTREAM_MAX_TOKENS = 16;
/** A long streamed answer: the cost per relayed chunk (one token per chunk). */
export const STREAM_MAX_TOKENS = 2000;
/** A LIMO-length answer as one JSON body (issue 18): the JSON path's cost per token at length. */
export const LONG_ANSWER_MAX_TOKENS = 10_000;

const ALL: readonly ScenarioTarget[] = ["sim", "floor", "metered", "gateway"];
const WORKERS: readonly ScenarioTarget[] = ["floor", "metered", "gateway"];
const GATEWAY: readonly ScenarioTarget[] = ["gateway"];
const FLOOR: readonly ScenarioTarget[] = ["floor"];

/** Asks the floor to read the backend's stream whole (bench/passthrough-worker.ts). */
export const READ_STREAM_HEADER = "x-bench-read-stream";

function withHeader(spec: RequestSpec, name: string, value: string): RequestSpec {
  return { ...spec, headers: { ...spec.headers, [name]: value } };
}

const shortRequest = { max_tokens: NONSTREAM_MAX_TOKENS };
const streamRequest = { max_tokens: STREAM_MAX_TOKENS, stream: true, stream_options: { include_usage: true } };
/** Greedy: the response cache may answer it. */
const greedy = { temperature: 0 };

/** The fixed-cost shape (16 tokens, c=1 latency and c=32 throughput), shared by every non-streaming short row. */
const shortCounts = { stream: false, tokens: NONSTREAM_MAX_TOKENS, sequential: 300, concurrency: 32, amount: 2000 } as const;
/** The long shape (2,000 tokens, c=1 and c=8), shared by every 2,000-token row. */
const longCounts = { tokens: STREAM_MAX_TOKENS, sequential: 10, concurrency: 8, amount: 40 } as const;

export const SCENARIOS: readonly Scenario[] = [
  {
    id: "nonstream",
    title: `non-streaming, ${NONSTREAM_MAX_TOKENS} tokens`,
    ...shortCounts,
    targets: ALL,
    key: "dev",
    cached: false,
    request: (apiKey) => chatRequest(apiKey, shortRequest),
    check: expectCompletionTokens(NONSTREAM_MAX_TOKENS),
    cpuKey: "cpu_per_request_us",
  },
  {
    id: "stream",
    title: `streaming, ${STREAM_MAX_TOKENS} tokens`,
    stream: true,
    ...longCounts,
    targets: ALL,
    key: "dev",
    cached: false,
    request: (apiKey) => chatRequest(apiKey, streamRequest),
    check: expectCompletionTokens(STREAM_MAX_TOKENS),
    cpuKey: "cpu_per_chunk_us",
  },
  // Issue 4: what limits cost. Two live keys made through the admin API, on two accounts of
  // the `dev` plan (no limit by default); `limited` has all four limits set far above what the
  // benchmark sends. The same request, back to back in every round: the difference is what
  // checking and settling the limits costs in the account's Durable Object.
  {
    id: "admission_unlimited",
    title: `admission: live key, account without limits, ${NONSTREAM_MAX_TOKENS} tokens`,
    ...shortCounts,
    targets: GATEWAY,
    key: "unlimited",
    cached: false,
    request: (apiKey) => chatRequest(apiKey, shortRequest),
    check: expectCompletionTokens(NONSTREAM_MAX_TOKENS),
    cpuKey: "admission_unlimited_cpu_per_request_us",
  },
  {
    id: "admission_limited",
    title: `admission: live key, account with all four limits, ${NONSTREAM_MAX_TOKENS} tokens`,
    ...shortCounts,
    targets: GATEWAY,
    key: "limited",
    cached: false,
    request: (apiKey) => chatRequest(apiKey, shortRequest),
    check: allOf(expectCompletionTokens(NONSTREAM_MAX_TOKENS), expectLimitHeaders),
    cpuKey: "admission_limited_cpu_per_request_us",
  },
  // Issue 14: what limits per end user add. The `limited` account's four limits plus all three
  // per-end-user limits (far above what is sent); every request names the same end user, so each
  // one reads and writes that end user's row in the account's Durable Object.
  {
    id: "admission_end_users",
    title: `admission: live key, account with all four limits and per-end-user limits, one end user, ${NONSTREAM_MAX_TOKENS} tokens`,
    ...shortCounts,
    targets: GATEWAY,
    key: "students",
    cached: false,
    request: (apiKey) => chatRequest(apiKey, { ...shortRequest, safety_identifier: "bench-student" }),
    check: allOf(expectCompletionTokens(NONSTREAM_MAX_TOKENS), expectLimitHeaders),
    cpuKey: "admission_end_users_cpu_per_request_us",
  },
  // Issue 5: a cache hit against the floor's uncached answer to the same request.
  {
    id: "cache_nonstream",
    title: `cache hit (gateway) vs uncached (floor), non-streaming, ${NONSTREAM_MAX_TOKENS} tokens, temperature 0`,
    ...shortCounts,
    targets: WORKERS,
    key: "dev",
    cached: true,
    request: (apiKey) => chatRequest(apiKey, { ...shortRequest, ...greedy }),
    check: allOf(expectCompletionTokens(NONSTREAM_MAX_TOKENS), expectCacheHit),
    cpuKey: "cache_nonstream_cpu_per_request_us",
  },
  {
    id: "cache_stream",
    title: `cache hit (gateway) vs uncached (floor), streaming, ${STREAM_MAX_TOKENS} tokens, temperature 0`,
    stream: true,
    ...longCounts,
    targets: WORKERS,
    key: "dev",
    cached: true,
    request: (apiKey) => chatRequest(apiKey, { ...streamRequest, ...greedy }),
    check: allOf(expectCompletionTokens(STREAM_MAX_TOKENS), expectCacheHit),
    cpuKey: "cache_stream_cpu_per_chunk_us",
  },
  // Issue 5: the generation Durable Object hop. Every stream goes through one; this request is
  // the `stream` row's without `stream` (sampled, so uncacheable): the direct path, which also
  // reads the backend's SSE stream (the gateway always asks the backend to stream) and answers JSON.
  {
    id: "long_nonstream",
    title: `non-streaming, ${STREAM_MAX_TOKENS} tokens (the stream row's request, direct path)`,
    stream: false,
    ...longCounts,
    targets: WORKERS,
    key: "dev",
    cached: false,
    request: (apiKey) => chatRequest(apiKey, { max_tokens: STREAM_MAX_TOKENS }),
    check: expectCompletionTokens(STREAM_MAX_TOKENS),
    cpuKey: "long_nonstream_cpu_per_request_us",
  },
  // Issue 18: the JSON path's own floor. The gateway must call the backend streaming (Modal cuts a
  // plain request at 150 s), so it receives the answer as SSE events, not as one body: the floor
  // here asks the simulator for the stream and answers its text whole (bench/passthrough-worker.ts,
  // header `x-bench-read-stream`), the least any gateway behind Modal can do for a JSON client.
  {
    id: "long_nonstream_streamed",
    title: `non-streaming, ${STREAM_MAX_TOKENS} tokens, the floor reading the backend's stream whole (the JSON path's own floor)`,
    stream: false,
    ...longCounts,
    targets: FLOOR,
    key: "dev",
    cached: false,
    request: (apiKey) => withHeader(chatRequest(apiKey, { max_tokens: STREAM_MAX_TOKENS }), READ_STREAM_HEADER, "1"),
    check: expectCompletionTokens(STREAM_MAX_TOKENS),
    cpuKey: "long_nonstream_streamed_cpu_per_request_us",
  },
  // Issue 18: a long LIMO answer (10,000 tokens) as one JSON body, the direct path. LIMO's answers
  // run 10k-32k tokens, so this is the JSON path's ordinary case, not its edge.
  {
    id: "long_answer",
    title: `non-streaming, ${LONG_ANSWER_MAX_TOKENS} tokens (a long answer, direct path)`,
    stream: false,
    tokens: LONG_ANSWER_MAX_TOKENS,
    sequential: 4,
    concurrency: 4,
    amount: 12,
    targets: WORKERS,
    key: "dev",
    cached: false,
    request: (apiKey) => chatRequest(apiKey, { max_tokens: LONG_ANSWER_MAX_TOKENS }),
    check: expectCompletionTokens(LONG_ANSWER_MAX_TOKENS),
    cpuKey: "long_answer_cpu_per_request_us",
  },
];

/** The longest answer any scenario asks for: the simulator's `min_tokens`, so every answer runs to its max_tokens. */
export const LONGEST_ANSWER = Math.max(...SCENARIOS.map((s) => s.tokens));

/**
 * Requests for one phase: `count` scaled to the effort, cut to what fits in
 * `effort.phaseSeconds` at `secondsPerRequest` (when the warm-up measured it),
 * never fewer than `min`.
 */
export function phaseCount(count: number, effort: Effort, min: number, secondsPerRequest?: number): number {
  const wanted = Math.max(min, Math.round(count * effort.scale));
  if (secondsPerRequest === undefined || !(secondsPerRequest > 0)) return wanted;
  return Math.max(min, Math.min(wanted, Math.floor(effort.phaseSeconds / secondsPerRequest)));
}
