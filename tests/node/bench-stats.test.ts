/**
 * The benchmark's arithmetic and parsing (bench/): pure functions only, no
 * timing, so these run in `npm test` in milliseconds.
 */
import { describe, expect, it } from "vitest";
import { parseProcStat } from "../../bench/proc";
import { deriveFigures, figuresOf, markdownTable, mediansOf, ratiosOf, type TargetFigures } from "../../bench/report";
import { FULL, LONG_ANSWER_MAX_TOKENS, LONGEST_ANSWER, phaseCount, QUICK, READ_STREAM_HEADER, SCENARIOS } from "../../bench/scenarios";
import type { Timed } from "../../bench/load";
import { simOptionsFromEnv } from "../../gpu/sim/node-server";
import { median, overFloor, percentile, round } from "../../bench/stats";

describe("percentile and median", () => {
  it("interpolates between closest ranks, whatever the input order", () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5], 0)).toBe(1);
    expect(percentile([1, 2, 3, 4, 5], 100)).toBe(5);
    expect(percentile([10, 20], 99)).toBeCloseTo(19.9);
    expect(median([5, 1, 3])).toBe(3);
  });

  it("is NaN with no samples rather than a made-up number", () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("gateway over floor", () => {
  it("divides so that higher is worse for costs and for throughput alike", () => {
    expect(overFloor(6, 4, false)).toBe(1.5); // latency: gateway / floor
    expect(overFloor(500, 1000, true)).toBe(2); // throughput: floor / gateway
  });

  it("gives no ratio when a side is missing or zero", () => {
    expect(overFloor(undefined, 4, false)).toBeNull();
    expect(overFloor(3, Number.NaN, false)).toBeNull();
    expect(overFloor(3, 0, false)).toBeNull();
  });

  it("takes each figure's median over the rounds, then the ratio of the medians", () => {
    const rounds: TargetFigures[] = [
      { sim: {}, floor: { nonstream_p50_ms: 4, nonstream_rps: 1000 }, metered: { nonstream_p50_ms: 5, nonstream_rps: 600 }, gateway: { nonstream_p50_ms: 5, nonstream_rps: 500 } },
      { sim: {}, floor: { nonstream_p50_ms: 2, nonstream_rps: 900 }, metered: { nonstream_p50_ms: 4, nonstream_rps: 500 }, gateway: { nonstream_p50_ms: 9, nonstream_rps: 450 } },
      { sim: {}, floor: { nonstream_p50_ms: 3, nonstream_rps: 800 }, metered: { nonstream_p50_ms: 3, nonstream_rps: 900 }, gateway: { nonstream_p50_ms: 6, nonstream_rps: 300 } },
    ];
    const medians = mediansOf(rounds);
    expect(medians.floor).toEqual({ nonstream_p50_ms: 3, nonstream_rps: 900 });
    const ratios = ratiosOf(figuresOf(SCENARIOS), medians);
    expect(ratios.nonstream_p50_ms).toBe(2);
    expect(ratios.nonstream_rps).toBe(2);
    expect(ratios.cpu_per_chunk_us).toBeNull();
    // Against the metered floor (the passthrough plus one Durable Object write): medians 4 ms and 600 req/s.
    const metered = ratiosOf(figuresOf(SCENARIOS), medians, "metered");
    expect(metered.nonstream_p50_ms).toBe(1.5);
    expect(metered.nonstream_rps).toBe(1.33);
  });
});

describe("figures", () => {
  it("name the ratios the issue asks for", () => {
    const keys = figuresOf(SCENARIOS).map((f) => f.key);
    expect(keys).toEqual(expect.arrayContaining(["nonstream_p50_ms", "nonstream_rps", "stream_total_ms", "cpu_per_chunk_us"]));
  });

  it("render as a markdown table with a dash where a figure does not apply", () => {
    const figures = figuresOf(SCENARIOS).filter((f) => f.key === "cpu_per_request_us");
    const medians: TargetFigures = { sim: {}, floor: { cpu_per_request_us: 500 }, metered: { cpu_per_request_us: 520 }, gateway: { cpu_per_request_us: 650 } };
    const table = markdownTable(figures, medians, ratiosOf(figures, medians), ratiosOf(figures, medians, "metered"));
    expect(table.split("\n")[2]).toBe("| non-streaming, 16 tokens: Worker CPU per request (µs) | – | 500 | 520 | 650 | 1.3× | 1.25× |");
  });

  it("round to three significant digits, whole numbers from 100", () => {
    expect(round(0.123456)).toBe(0.123);
    expect(round(12.345)).toBe(12.3);
    expect(round(1234.5)).toBe(1235);
  });
});

describe("/proc/<pid>/stat", () => {
  it("reads ppid and utime+stime even when the command name holds spaces and parentheses", () => {
    const line = "4242 (work (er) d) S 17 4242 17 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 123 456 789";
    expect(parseProcStat(line)).toEqual({ pid: 4242, comm: "work (er) d", ppid: 17, cpuTicks: 325 });
  });
});

describe("answers filled to max_tokens", () => {
  it("come from the simulator's min_tokens knob, set from SIM_MIN_TOKENS to the longest answer asked for", () => {
    expect(LONGEST_ANSWER).toBe(LONG_ANSWER_MAX_TOKENS);
    expect(simOptionsFromEnv({ SIM_MIN_TOKENS: "2000" }).defaults).toEqual({ min_tokens: 2000 });
    expect(simOptionsFromEnv({}).defaults).toEqual({});
    expect(() => simOptionsFromEnv({ SIM_MIN_TOKENS: "1.5" })).toThrow(/SIM_MIN_TOKENS/);
    expect(() => simOptionsFromEnv({ SIM_MIN_TOKENS: "-3" })).toThrow(/SIM_MIN_TOKENS/);
  });
});

describe("the later rows", () => {
  const timed = (tail: string, headers: Record<string, string> = {}): Timed => ({
    status: 200, ttfbMs: 1, totalMs: 1, bytes: tail.length, events: 1, tail, headers,
  });
  const scenario = (id: string) => SCENARIOS.find((s) => s.id === id)!;

  it("accept a gateway cache row only when it says x-cache: HIT, and the floor's uncached answer as it is", () => {
    const cache = scenario("cache_nonstream");
    const body = '{"usage":{"completion_tokens":16}}';
    expect(cache.check(timed(body, { "x-cache": "HIT" }), "gateway")).toBeNull();
    expect(cache.check(timed(body, { "x-cache": "MISS" }), "gateway")).toMatch(/HIT/);
    expect(cache.check(timed(body), "floor")).toBeNull();
    expect(JSON.parse(cache.request("k").body!).temperature).toBe(0);
    expect(cache.targets).toEqual(["floor", "metered", "gateway"]);
  });

  it("call the admission rows with their own keys, the limited one showing OpenAI's rate-limit headers", () => {
    expect(scenario("admission_unlimited").key).toBe("unlimited");
    const limited = scenario("admission_limited");
    const body = '{"usage":{"completion_tokens":16}}';
    expect(limited.check(timed(body), "gateway")).toMatch(/x-ratelimit/);
    expect(limited.check(timed(body, { "x-ratelimit-limit-requests": "100000000" }), "gateway")).toBeNull();
  });

  it("send the JSON path's own floor to the floor only, asking it to read the backend's stream", () => {
    const streamed = scenario("long_nonstream_streamed");
    expect(streamed.targets).toEqual(["floor"]);
    expect(streamed.request("k").headers[READ_STREAM_HEADER]).toBe("1");
    expect(scenario("long_nonstream").request("k").headers[READ_STREAM_HEADER]).toBeUndefined();
    expect(JSON.parse(streamed.request("k").body!)).toEqual(JSON.parse(scenario("long_nonstream").request("k").body!));
  });

  it("derive same-round differences: the stream's extra CPU per chunk, and what limits add to admission", () => {
    const round: TargetFigures = {
      sim: {},
      floor: { stream_cpu_per_request_us: 8000, long_nonstream_cpu_per_request_us: 4000, long_nonstream_streamed_cpu_per_request_us: 6000 },
      metered: { stream_cpu_per_request_us: 8200, long_nonstream_cpu_per_request_us: 4200, long_answer_cpu_per_request_us: 20000 },
      gateway: {
        long_answer_cpu_per_request_us: 50000,
        stream_cpu_per_request_us: 30000,
        long_nonstream_cpu_per_request_us: 10000,
        admission_unlimited_cpu_per_request_us: 1000,
        admission_limited_cpu_per_request_us: 1100,
        admission_unlimited_p50_ms: 2,
        admission_limited_p50_ms: 2.05,
        admission_unlimited_rps: 500,
        admission_limited_rps: 400,
      },
    };
    deriveFigures(round);
    expect(round.floor.stream_extra_cpu_per_chunk_us).toBe(2);
    expect(round.gateway.stream_extra_cpu_per_chunk_us).toBe(10);
    expect(round.gateway.long_nonstream_cpu_per_token_us).toBe(5);
    expect(round.floor.long_nonstream_streamed_cpu_per_token_us).toBe(3);
    expect(round.gateway.json_cpu_per_token_over_streamed_floor).toBeCloseTo(10000 / 6000);
    expect(round.metered.stream_extra_cpu_per_chunk_us).toBe(2);
    expect(round.gateway.long_answer_cpu_per_token_us).toBe(5);
    expect(round.metered.long_answer_cpu_per_token_us).toBe(2);
    expect(round.gateway.admission_limits_cpu_us).toBe(100);
    expect(round.gateway.admission_limited_over_unlimited_cpu).toBeCloseTo(1.1);
    expect(round.gateway.admission_limits_p50_us).toBeCloseTo(50);
    expect(round.gateway.admission_unlimited_over_limited_rps).toBe(1.25);
    const ratios = ratiosOf(figuresOf(SCENARIOS), mediansOf([round]));
    expect(ratios.stream_extra_cpu_per_chunk_us).toBe(5);
    expect(ratios.admission_limits_cpu_us).toBeNull();
  });
});

describe("phase sizes", () => {
  it("scale with the effort and never drop below the minimum", () => {
    expect(phaseCount(2000, FULL, 32)).toBe(2000);
    expect(phaseCount(2000, QUICK, 32)).toBe(500);
    expect(phaseCount(10, QUICK, 8)).toBe(8);
  });

  it("shrink for a slow target so a phase lasts about phaseSeconds", () => {
    // 100 requests a second, 2.5 seconds a phase: 250, not 2000.
    expect(phaseCount(2000, FULL, 32, 0.01)).toBe(250);
    expect(phaseCount(2000, FULL, 32, 1)).toBe(32);
    expect(phaseCount(2000, FULL, 32, 0.0001)).toBe(2000);
  });
});
