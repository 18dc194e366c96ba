/**
 * The harness's pure parts: the command line, data set loading as LIMO reads
 * it, the retry decisions, the client's retries under an injected clock
 * (fetch answered at the boundary with scripted responses), results.jsonl
 * surviving a torn last line, and the plain progress lines a log shows.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LIMO_SYSTEM_PROMPT } from "../../shared/constants";
import { RateGate, requestCompletion, type Clock } from "../../scripts/eval/client";
import { loadDataset, parseProblems } from "../../scripts/eval/dataset";
import { EvalUsageError, normaliseBaseUrl, parseEvalArgs } from "../../scripts/eval/options";
import { LineProgress, PLAIN_LINE_INTERVAL_MS, type ProgressSnapshot } from "../../scripts/eval/progress";
import { latestRows, readResults, ResultsWriter, type ResultRow } from "../../scripts/eval/results";
import { decideRetry, MAX_FAILED_ATTEMPTS, serverWaitMs } from "../../scripts/eval/retry";

describe("the command line", () => {
  it("defaults to LIMO's protocol: its system prompt, greedy, top_p 1, max_tokens 32768, one sample", () => {
    const o = parseEvalArgs(["--dataset", "math500"])!;
    expect(o).toMatchObject({ systemPrompt: LIMO_SYSTEM_PROMPT, temperature: 0, topP: 1, maxTokens: 32768, samples: 1, model: "limo", baseUrl: null, cache: false });
    expect(o.explicit.size).toBe(0);
  });

  it("samples at LIMO's 0.7 / 0.95 with --samples K unless told otherwise", () => {
    expect(parseEvalArgs(["--dataset", "aime24", "--samples", "8"])).toMatchObject({ samples: 8, temperature: 0.7, topP: 0.95, seed: 0 });
    expect(parseEvalArgs(["--dataset", "aime24"])!.seed).toBeNull();
    expect(parseEvalArgs(["--dataset", "aime24", "--samples", "2", "--seed", "9"])!.explicit.has("seed")).toBe(true);
    expect(parseEvalArgs(["--dataset", "aime24", "--samples", "4", "--temperature", "1"])).toMatchObject({ temperature: 1, topP: 0.95 });
  });

  it("takes the API key from the flag, then LIMO_API_KEY, then OPENAI_API_KEY", () => {
    expect(parseEvalArgs(["--dataset", "x.jsonl"], { OPENAI_API_KEY: "o" })!.apiKey).toBe("o");
    expect(parseEvalArgs(["--dataset", "x.jsonl"], { OPENAI_API_KEY: "o", LIMO_API_KEY: "l" })!.apiKey).toBe("l");
    expect(parseEvalArgs(["--dataset", "x.jsonl", "--api-key", "k"], { LIMO_API_KEY: "l" })!.apiKey).toBe("k");
  });

  it("refuses what cannot work, saying why", () => {
    const refuses = (args: string[], message: RegExp) => expect(() => parseEvalArgs(args)).toThrow(message);
    refuses([], /--dataset is required/);
    refuses(["--dataset", "math500", "--limit", "0"], /--limit must be/);
    refuses(["--dataset", "math500", "--samples", "2.5"], /whole number/);
    refuses(["--dataset", "math500", "--resume"], /--resume needs --out/);
    refuses(["--dataset", "math500", "--base-url", "http://x", "--oracle-accuracy", "0.5"], /embedded simulator/);
    refuses(["--dataset", "math500", "--oracle-accuracy", "1.5"], /--oracle-accuracy must be/);
    refuses(["--dataset", "math500", "--bogus"], /bogus/);
    expect(() => parseEvalArgs(["--dataset", "math500", "--limit", "x"])).toThrow(EvalUsageError);
  });

  it("adds /v1 to a bare origin and keeps any other path", () => {
    expect(normaliseBaseUrl("http://127.0.0.1:8787")).toBe("http://127.0.0.1:8787/v1");
    expect(normaliseBaseUrl("https://api.example/v1/")).toBe("https://api.example/v1");
    expect(normaliseBaseUrl("https://api.example/openai/v1")).toBe("https://api.example/openai/v1");
    expect(() => normaliseBaseUrl("ftp://x")).toThrow(/http/);
  });
});

describe("data sets", () => {
  it("reads the three shipped sets as LIMO does: question or problem, stripped; str(answer); MATH500's subject and level", () => {
    const math = loadDataset("math500");
    expect(math.problems).toHaveLength(500);
    expect(math.problems[0]).toMatchObject({ index: 0, id: "test/precalculus/807.json", subject: "Precalculus", level: 2 });
    const amc = loadDataset("amc23");
    expect(amc.problems).toHaveLength(40);
    expect(amc.problems[0]!.reference).toBe("27");
    expect(amc.problems.every((p) => p.problem === p.problem.trim())).toBe(true);
    expect(loadDataset("aime24").problems).toHaveLength(30);
  });

  it("accepts any JSONL with problem and answer, and names the line that is wrong", () => {
    expect(parseProblems('{"problem":" 1+1? ","answer":2}\n\n{"question":"2+2?","answer":"4"}\n', "f")).toEqual([
      { index: 0, id: "0", problem: "1+1?", reference: "2", subject: null, level: null },
      { index: 1, id: "1", problem: "2+2?", reference: "4", subject: null, level: null },
    ]);
    expect(() => parseProblems('{"problem":"x","answer":1}\nnot json\n', "f")).toThrow("f:2 is not JSON");
    expect(() => parseProblems('{"problem":"x"}\n', "f")).toThrow('f:1 has no "answer"');
    expect(() => parseProblems('{"id":1,"problem":"x","answer":1}\n{"id":1,"problem":"y","answer":2}\n', "f")).toThrow("appears twice");
  });
});

describe("retry decisions", () => {
  const http = (status: number, headers: Record<string, string> = {}, code: string | null = null) =>
    ({ kind: "http", status, headers: new Headers(headers), code, message: `HTTP ${status}` }) as const;
  const none = { failures: 0, rateLimited: 0 };

  it("reads retry-after-ms first, then Retry-After in seconds or as a date", () => {
    expect(serverWaitMs(new Headers({ "retry-after-ms": "1500", "retry-after": "9" }), 0)).toBe(1500);
    expect(serverWaitMs(new Headers({ "retry-after": "3" }), 0)).toBe(3000);
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(serverWaitMs(new Headers({ "retry-after": "Wed, 01 Jan 2025 00:00:05 GMT" }), now)).toBe(5000);
    expect(serverWaitMs(new Headers(), 0)).toBeNull();
  });

  it("waits a 429 out exactly as told (plus at most 10% jitter), without using up the failure budget", () => {
    const d = decideRetry(http(429, { "retry-after-ms": "2000" }), none, 0, 0);
    expect(d).toEqual({ retry: true, waitMs: 2000, counts: "rate_limit", serverWaitMs: 2000 });
    const jittered = decideRetry(http(429, { "retry-after-ms": "2000" }), none, 0, 0.999);
    expect(jittered.retry && jittered.waitMs).toBeGreaterThanOrEqual(2000);
    expect(jittered.retry && jittered.waitMs).toBeLessThanOrEqual(2200);
    expect(decideRetry(http(429, {}), { failures: MAX_FAILED_ATTEMPTS, rateLimited: 0 }, 0, 0).retry).toBe(true);
  });

  it("gives up at once on a spent quota and on other 4xx", () => {
    expect(decideRetry(http(429, { "x-should-retry": "false", "retry-after": "60" }), none, 0, 0).retry).toBe(false);
    expect(decideRetry(http(429, {}, "insufficient_quota"), none, 0, 0).retry).toBe(false);
    for (const status of [400, 401, 403, 404, 413]) expect(decideRetry(http(status), none, 0, 0).retry).toBe(false);
  });

  it("retries 5xx, 408, broken connections and stream errors with backoff, up to MAX_FAILED_ATTEMPTS", () => {
    const waits = [0, 1, 2, 3, 4].map((failures) => decideRetry(http(503), { failures, rateLimited: 0 }, 0, 0));
    expect(waits.map((d) => d.retry && d.waitMs)).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(decideRetry(http(503, { "retry-after": "7" }), none, 0, 0)).toMatchObject({ waitMs: 7000, counts: "failure" });
    expect(decideRetry(http(408), none, 0, 0).retry).toBe(true);
    expect(decideRetry({ kind: "network", message: "reset" }, none, 0, 0).retry).toBe(true);
    expect(decideRetry({ kind: "stream", message: "cut" }, { failures: MAX_FAILED_ATTEMPTS - 1, rateLimited: 0 }, 0, 0).retry).toBe(false);
  });
});

/** A clock whose sleeps advance it at once and are recorded. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return { slept, now: () => now, sleep: async (ms) => { slept.push(ms); now += ms; } };
}

const SSE_ANSWER = [
  'data: {"model":"GAIR/LIMO","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}',
  'data: {"model":"GAIR/LIMO","choices":[{"index":0,"delta":{"content":"So \\\\boxed{"}}]}',
  'data: {"model":"GAIR/LIMO","choices":[{"index":0,"delta":{"content":"42}"},"finish_reason":"stop","final_answer":"42"}]}',
  'data: {"model":"GAIR/LIMO","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":2}}',
  "data: [DONE]",
].join("\n\n") + "\n\n";

function sse(text: string, headers: Record<string, string> = {}): Response {
  return new Response(text, { status: 200, headers: { "content-type": "text/event-stream", "x-request-id": "req_1", "x-cache": "MISS", ...headers } });
}

function scripted(responses: (() => Response | Promise<Response>)[]): { fetch: typeof fetch; seen: Headers[] } {
  const seen: Headers[] = [];
  return {
    seen,
    fetch: (async (_input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Headers(init?.headers));
      const next = responses.shift();
      if (!next) throw new Error("no more scripted responses");
      return next();
    }) as typeof fetch,
  };
}

describe("the client", () => {
  const request = { baseUrl: "http://api/v1", apiKey: "k", body: { model: "limo" }, idempotencyKey: "limo-eval-r-p-0", cache: false };

  it("assembles a streamed answer with its usage, served model, request id and the API's final_answer", async () => {
    const clock = fakeClock();
    const { fetch, seen } = scripted([() => sse(SSE_ANSWER)]);
    const out = await requestCompletion(request, { fetch, clock, random: () => 0, gate: new RateGate(), signal: new AbortController().signal });
    expect(out).toMatchObject({ ok: true, attempts: [] });
    if (!out.ok) throw new Error("not ok");
    expect(out.completion).toMatchObject({ text: "So \\boxed{42}", finishReason: "stop", apiFinalAnswer: "42", promptTokens: 30, completionTokens: 2, servedModel: "GAIR/LIMO", requestId: "req_1", cacheStatus: "MISS", replayed: false });
    expect(seen[0]!.get("idempotency-key")).toBe("limo-eval-r-p-0");
    expect(seen[0]!.get("cache-control")).toBe("no-store");
  });

  it("honours Retry-After on 429s and retries 503s and cut streams, all with the same Idempotency-Key", async () => {
    const clock = fakeClock();
    const limited = () => new Response('{"error":{"message":"slow down","code":"rate_limit_exceeded"}}', { status: 429, headers: { "retry-after-ms": "1250", "retry-after": "2" } });
    const { fetch, seen } = scripted([
      limited,
      () => new Response("{}", { status: 503 }),
      () => sse('data: {"choices":[{"delta":{"content":"cut"}}]}\n\n'),
      () => sse('data: {"error":{"message":"backend failed"}}\n\n'),
      () => sse(SSE_ANSWER, { "idempotent-replayed": "true", "x-cache": "HIT" }),
    ]);
    const out = await requestCompletion(request, { fetch, clock, random: () => 0, gate: new RateGate(), signal: new AbortController().signal });
    if (!out.ok) throw new Error("not ok");
    expect(clock.slept).toEqual([1250, 1000, 2000, 4000]);
    expect(out.attempts.map((a) => [a.status, a.server_wait_ms, a.waited_ms])).toEqual([[429, 1250, 1250], [503, null, 1000], [null, null, 2000], [null, null, 4000]]);
    expect(out.attempts[2]!.error).toMatch(/before \[DONE\]/);
    expect(out.attempts[3]!.error).toMatch(/backend failed/);
    expect(new Set(seen.map((h) => h.get("idempotency-key")))).toEqual(new Set(["limo-eval-r-p-0"]));
    expect(out.completion.replayed).toBe(true);
  });

  it("holds every worker behind a 429 until its Retry-After has passed", async () => {
    const clock = fakeClock();
    const gate = new RateGate();
    gate.hold(clock.now() + 3000);
    const { fetch } = scripted([() => sse(SSE_ANSWER)]);
    await requestCompletion(request, { fetch, clock, random: () => 0, gate, signal: new AbortController().signal });
    expect(clock.slept).toEqual([3000]);
  });

  it("records a final 4xx as an error with the API's message, and stops on abort without a result", async () => {
    const { fetch } = scripted([() => new Response('{"error":{"message":"bad model","code":"model_not_found"}}', { status: 404 })]);
    const out = await requestCompletion(request, { fetch, clock: fakeClock(), random: () => 0, gate: new RateGate(), signal: new AbortController().signal });
    expect(out).toMatchObject({ ok: false, status: 404, error: "HTTP 404: bad model" });
    const aborted = new AbortController();
    aborted.abort();
    const never = scripted([() => { throw new DOMException("aborted", "AbortError"); }]);
    const out2 = await requestCompletion(request, { fetch: never.fetch, clock: fakeClock(), random: () => 0, gate: new RateGate(), signal: aborted.signal });
    expect(out2).toMatchObject({ ok: false, aborted: true });
  });
});

describe("results.jsonl", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const row = (problem: string, sample: number, status: "ok" | "error"): ResultRow =>
    ({ problem_id: problem, sample, status, correct: status === "ok" }) as unknown as ResultRow;

  it("skips a torn last line when read and cuts it before appending, so the file stays valid", () => {
    dir = mkdtempSync(join(tmpdir(), "eval-results-"));
    const writer = new ResultsWriter(dir);
    writer.append(row("a", 0, "ok"));
    writer.append(row("b", 0, "error"));
    writer.close();
    appendFileSync(join(dir, "results.jsonl"), '{"problem_id":"c","sam');
    expect(readResults(dir).map((r) => r.problem_id)).toEqual(["a", "b"]);
    const again = new ResultsWriter(dir);
    again.append(row("b", 0, "ok"));
    again.close();
    const lines = readFileSync(join(dir, "results.jsonl"), "utf8").trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l).problem_id)).toEqual(["a", "b", "b"]);
    expect(latestRows(readResults(dir)).map((r) => [r.problem_id, r.status])).toEqual([["a", "ok"], ["b", "ok"]]);
  });

  it("refuses a damaged line in the middle", () => {
    dir = mkdtempSync(join(tmpdir(), "eval-results-"));
    writeFileSync(join(dir, "results.jsonl"), '{"problem_id":"a"}\nnot json\n{"problem_id":"b"}\n');
    expect(() => readResults(dir)).toThrow(/results.jsonl:2 is not JSON/);
  });
});

describe("plain progress lines (not a terminal)", () => {
  const snapshot = (done: number, extra: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
    done, total: 20, doneThisSession: done, correct: Math.floor(done * 0.75), answered: done, errors: 0,
    tokensThisSession: done * 300, costMicroUsd: done * 1000, costKind: "list", rateLimitedRetries: 0, ...extra,
  });

  it("prints a sentence at each tenth of the run and after a quiet stretch, with accuracy, speed, cost and ETA", () => {
    let now = 0;
    const lines: string[] = [];
    const progress = new LineProgress((l) => lines.push(l), () => now);
    progress.update(snapshot(0));
    for (let done = 1; done <= 3; done++) {
      now += 1000;
      progress.update(snapshot(done));
    }
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe("eval: 0/20 done (0%), accuracy so far -, 0 tokens/s, cost $0.000000 at list prices, ETA -");
    expect(lines[1]).toBe("eval: 2/20 done (10%), accuracy so far 50.0% (1/2), 300 tokens/s, cost $0.002000 at list prices, ETA 18s");
    now += PLAIN_LINE_INTERVAL_MS;
    progress.update(snapshot(3, { rateLimitedRetries: 4 }));
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^eval: 3\/20 done \(15%\), .* 4 rate-limited \(429\) retries$/);
    progress.stop(snapshot(20));
    expect(lines[3]).toMatch(/^eval: 20\/20 done \(100%\), accuracy so far 75\.0% \(15\/20\), .* ETA 0s$/);
  });
});
