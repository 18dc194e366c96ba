/**
 * The only 5xx the API may answer: a backend that is down or failing. Valid
 * requests of every shape against a dead port, and against a simulator told
 * to fail (any status, proxy auth refused, cold start, an error or a dropped
 * connection mid-stream): a 502/503 with Retry-After or a stream that ends
 * in an error event, always in OpenAI's envelope, never naming the backend,
 * its address or its own message.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { simBackends } from "../helpers/api";
import { checkLogsForSecrets, checkResponse, expectLedger, fuzzClient, FUZZ_TIMEOUT_MS, fuzzParams, ledgerIds } from "../helpers/fuzz";
import { newSim, type SimConfigPatch } from "../helpers/sim";
import { SSE_DONE } from "../../shared/sse";

const BACKEND_NAME = "fuzzbackend7";

/** Valid requests of every shape: chat or completions, streaming or not, with usage, several choices. */
const validRequest = fc.record({
  path: fc.constantFrom("/v1/chat/completions", "/v1/completions"),
  stream: fc.boolean(),
  includeUsage: fc.boolean(),
  n: fc.integer({ min: 1, max: 3 }),
  maxTokens: fc.integer({ min: 1, max: 40 }),
});

type ValidRequest = { path: string; stream: boolean; includeUsage: boolean; n: number; maxTokens: number };

function bodyOf(r: ValidRequest) {
  const input = r.path.endsWith("chat/completions") ? { messages: [{ role: "user", content: "What is 2+2?" }] } : { prompt: "2+2=" };
  return {
    model: "limo",
    ...input,
    n: r.n,
    max_tokens: r.maxTokens,
    ...(r.stream ? { stream: true, ...(r.includeUsage ? { stream_options: { include_usage: true } } : {}) } : {}),
  };
}

/** What a failing backend may do. */
const fault: fc.Arbitrary<SimConfigPatch> = fc.oneof(
  fc.constantFrom(400, 401, 403, 404, 408, 422, 429, 500, 502, 503, 504).map((status) => ({ fail_status: status })),
  fc.constant({ require_proxy_auth: true }),
  fc.constant({ cold_start_ms: 60_000 }),
  fc.integer({ min: 0, max: 20 }).map((n) => ({ error_after_tokens: n })),
  fc.integer({ min: 0, max: 20 }).map((n) => ({ drop_after_tokens: n })),
);

const RESET: SimConfigPatch = { fail_status: null, require_proxy_auth: null, cold_start_ms: null, error_after_tokens: null, drop_after_tokens: null };

const currentLogs = checkLogsForSecrets();

/** Every `data:` payload of an event stream that is an error must be the envelope. */
function checkStreamErrors(text: string, describe: string): { errored: boolean; done: boolean } {
  let errored = false;
  let done = false;
  for (const line of text.split("\n")) {
    if (!line.startsWith("data:")) continue;
    const data = line.slice(5).trim();
    if (data === SSE_DONE) {
      done = true;
      continue;
    }
    const event = JSON.parse(data) as { error?: Record<string, unknown> };
    if (event.error === undefined) continue;
    errored = true;
    expect(Object.keys(event).join(), describe).toBe("error");
    expect(Object.keys(event.error).sort().join(), describe).toBe("code,message,param,type");
    expect(typeof event.error.message, describe).toBe("string");
  }
  return { errored, done };
}

describe("fuzzing failing backends", { timeout: FUZZ_TIMEOUT_MS }, () => {
  it("answers every valid request to a dead backend with a 503 and Retry-After, naming nothing", async () => {
    const sim = newSim();
    const a = await fuzzClient(sim, {
      BACKENDS: JSON.stringify([{ name: BACKEND_NAME, url: "http://127.0.0.1:1", models: ["GAIR/LIMO", "GAIR/LIMO-v2"], weight: 1 }]),
    });
    const admitted = new Set<string>();
    const ledgerBefore = await ledgerIds(a);
    await fc.assert(
      fc.asyncProperty(validRequest, async (r) => {
        const res = await a.send(r.path, bodyOf(r));
        admitted.add(res.headers.get("x-request-id")!);
        const described = `dead backend: ${JSON.stringify(r)}`;
        const checked = await checkResponse(res, { allow5xx: [503], describe: described, forbidden: [BACKEND_NAME, "127.0.0.1", "http://"] });
        expect(checked.status, described).toBe(503);
        expect(checked.error?.code).toBe("backend_unavailable");
        expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
      }),
      fuzzParams(12, 50),
    );
    // Admitted, then failed: still exactly one usage record each.
    await expectLedger(a, ledgerBefore, admitted);
    // The reasons went to the log (checked for secrets after each test), not to the client.
    expect(currentLogs().lines.join("\n")).toMatch(/unreachable|backend/);
  });

  it("answers a failing backend with a 400 (its own client error), a 502/503 with Retry-After, or an in-stream error", async () => {
    const sim = newSim();
    // No Modal credentials: a backend requiring proxy auth refuses the Worker (our misconfiguration).
    const a = await fuzzClient(sim, { BACKENDS: simBackends(sim.url, BACKEND_NAME), MODAL_KEY: undefined, MODAL_SECRET: undefined });
    const instance = sim.url.slice(sim.url.lastIndexOf("/") + 1);
    const admitted = new Set<string>();
    const ledgerBefore = await ledgerIds(a);
    await fc.assert(
      fc.asyncProperty(validRequest, fault, async (r, f) => {
        await sim.configure({ ...RESET, ...f });
        const res = await a.send(r.path, bodyOf(r));
        admitted.add(res.headers.get("x-request-id")!);
        const described = `fault ${JSON.stringify(f)}: ${JSON.stringify(r)}`;
        const checked = await checkResponse(res, {
          allow5xx: [502, 503],
          describe: described,
          forbidden: [BACKEND_NAME, instance, "127.0.0.1", "modal-http", "/i/"],
        });
        expect([200, 400, 502, 503], `${described}: ${checked.text.slice(0, 300)}`).toContain(checked.status);
        if (checked.status >= 500) {
          expect(res.headers.get("retry-after"), described).toMatch(/^\d+$/);
          // The backend's own words stay in the log.
          expect(checked.text, described).not.toMatch(/Simulated|fail_status|proxy authorization/);
        }
        if (checked.status === 400) expect(f.fail_status, described).toBeOneOf([400, 408, 422]);
        // A fault after k tokens strikes when the answer is longer than k (LIMO's answers run far past 40 tokens).
        const breakAt = f.error_after_tokens ?? f.drop_after_tokens;
        const breaks = breakAt != null && breakAt < r.maxTokens;
        if (checked.status === 200 && r.stream) {
          const { errored, done } = checkStreamErrors(checked.text, described);
          // A broken or failed generation ends in an error event, never like a complete one.
          if (breaks) expect(errored && !done, `${described}: ended as a success`).toBe(true);
        }
        if (checked.status === 200 && !r.stream) expect(breaks, `${described}: a non-streaming success from a failing backend`).toBe(false);
      }),
      fuzzParams(60, 51),
    );
    await sim.configure(RESET);
    await expectLedger(a, ledgerBefore, admitted);
  });
});
