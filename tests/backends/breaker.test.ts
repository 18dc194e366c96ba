import { describe, expect, it } from "vitest";
import { BREAKER_FAILURE_THRESHOLD, BREAKER_OPEN_MS, closedBreaker, mayPass, onResult, onSend, phaseAt } from "../../worker/routing/breaker";
import { backoffMs, classifyFailure, parseRetryAfter } from "../../worker/routing/policy";
import { parseVllmGauges, inHours } from "../../worker/routing/health-poll";

describe("circuit breaker", () => {
  it("opens after consecutive failures, lets one probe through when half-open, and closes on its success", () => {
    let b = closedBreaker();
    for (let i = 0; i < BREAKER_FAILURE_THRESHOLD - 1; i++) b = onResult(b, "failure", 0);
    expect(phaseAt(b, 0)).toBe("closed");
    b = onResult(b, "failure", 0);
    expect(phaseAt(b, 1)).toBe("open");
    expect(mayPass(b, BREAKER_OPEN_MS - 1)).toBe(false);
    expect(mayPass(b, BREAKER_OPEN_MS)).toBe(true);
    b = onSend(b, BREAKER_OPEN_MS);
    expect(mayPass(b, BREAKER_OPEN_MS)).toBe(false); // one probe at a time
    b = onResult(b, "success", BREAKER_OPEN_MS + 10);
    expect(phaseAt(b, BREAKER_OPEN_MS + 10)).toBe("closed");
  });

  it("opens again when the probe fails", () => {
    let b = closedBreaker();
    for (let i = 0; i < BREAKER_FAILURE_THRESHOLD; i++) b = onResult(b, "failure", 0);
    b = onSend(b, BREAKER_OPEN_MS);
    b = onResult(b, "failure", BREAKER_OPEN_MS);
    expect(phaseAt(b, BREAKER_OPEN_MS + 1)).toBe("open");
    expect(mayPass(b, 2 * BREAKER_OPEN_MS - 1)).toBe(false);
  });
});

describe("retry policy", () => {
  it("retries what may pass, waits out cold starts, and never retries a 4xx", () => {
    expect(classifyFailure(null, null, null).kind).toBe("retryable");
    for (const s of [502, 503, 504, 429]) expect(classifyFailure(s, "x", null).kind).toBe("retryable");
    expect(classifyFailure(503, "The model server is starting (simulated cold start).", null).kind).toBe("cold");
    expect(classifyFailure(503, "no containers available", "7")).toEqual({ kind: "cold", retryAfterMs: 7000 });
    for (const s of [400, 401, 404, 422, 500]) expect(classifyFailure(s, "x", null).kind).toBe("final");
  });

  it("backs off exponentially with jitter and reads Retry-After", () => {
    expect(backoffMs(1, () => 0)).toBe(50);
    expect(backoffMs(3, () => 1)).toBe(400);
    expect(backoffMs(20, () => 1)).toBe(2000);
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000);
    expect(parseRetryAfter("soon")).toBeNull();
  });

  it("reads vLLM's gauges and the pre-warm hours", () => {
    const text = 'vllm:num_requests_running{model_name="a"} 2.0\nvllm:num_requests_waiting{model_name="a"} 1.0\nvllm:num_requests_running{model_name="b"} 1.0\n';
    expect(parseVllmGauges(text)).toEqual({ running: 3, waiting: 1 });
    expect(inHours("7-19", 7)).toBe(true);
    expect(inHours("7-19", 19)).toBe(false);
    expect(inHours("22-6", 3)).toBe(true);
    expect(inHours(undefined, 3)).toBe(false);
  });
});
