/**
 * Fuzzing the usage reports and Idempotency-Key: hostile ranges (`from`/`to`
 * as impossible dates, huge or negative Unix seconds, offsets, junk), cursors,
 * limits and formats on `GET /v1/usage` and `GET /admin/v1/accounts/{id}/usage`;
 * any Idempotency-Key value on generation requests. No 5xx, the envelope on
 * every error, nothing internal; a refused key never reaches the backend, and
 * a replay never reaches it twice.
 */
import fc from "fast-check";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { headerValue, hostileSegment, hostileString, queryString } from "../helpers/fuzz-arbitraries";
import { backendRequests, checkLogsForSecrets, checkResponse, expectLedger, fuzzClient, FUZZ_TIMEOUT_MS, fuzzParams, ledgerIds, type FuzzClient } from "../helpers/fuzz";
import { newSim, type SimHandle } from "../helpers/sim";

/** Instants and days as a hostile client writes them. */
const instant = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "2025-11-01",
      "2025-02-29",
      "2024-02-29",
      "2025-02-30",
      "2025-13-01",
      "0000-01-01",
      "9999-12-31",
      "+275760-09-13",
      "-271821-04-20",
      "2025-11-01T09:30:00Z",
      "2025-11-01T25:61:61Z",
      "2025-11-01T09:30:00+14:00",
      "2025-11-01T09:30:00-99:99",
      "2025-11-01T09:30:00.123456789Z",
      "1761955200",
      "0",
      "-1",
      "1e999",
      "8640000000000",
      "8640000000001",
      "99999999999999999999",
      "1761955200.5",
      "0x10",
      " 1761955200",
      "NaN",
      "Infinity",
      "",
      "now",
      "yesterday",
    ),
  },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: hostileString },
);

const usageQuery = fc
  .record(
    {
      from: instant,
      to: instant,
      limit: fc.oneof(fc.integer({ min: -5, max: 1_100 }).map(String), fc.constantFrom("", "1e3", "NaN", "1.5")),
      after: fc.oneof(hostileString, fc.constantFrom("", "x".repeat(300), "eyJhIjoxfQ", "MTc2MTk1NTIwMDAwMDpyZXFfeA")),
      format: fc.constantFrom("json", "csv", "CSV", "xml", ""),
      extra: hostileString,
    },
    { requiredKeys: [] },
  )
  .map((q) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) {
      try {
        params.append(k === "extra" ? "x" : k, v);
      } catch {
        // a lone surrogate cannot be encoded: leave the parameter out
      }
    }
    const text = params.toString();
    return text ? `?${text}` : "";
  });

checkLogsForSecrets();

describe("fuzzing usage reports and Idempotency-Key", { timeout: FUZZ_TIMEOUT_MS }, () => {
  let sim: SimHandle;
  let a: FuzzClient;
  beforeAll(async () => {
    sim = newSim();
    a = await fuzzClient(sim);
    // Some usage to report on.
    for (let i = 0; i < 3; i++) expect((await a.send("/v1/completions", { model: "limo", prompt: "2+2=", max_tokens: 2 })).status).toBe(200);
  });

  it("GET /v1/usage answers any range safely", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(usageQuery, queryString), async (query) => {
        const res = await a.get(`/v1/usage${query}`, { authorization: `Bearer ${a.key}` });
        const checked = await checkResponse(res, { describe: `GET /v1/usage${query.slice(0, 300)}`, forbidden: [a.key] });
        expect([200, 400], `${query}: ${checked.text.slice(0, 300)}`).toContain(checked.status);
      }),
      fuzzParams(100, 60),
    );
  });

  it("GET /admin/v1/accounts/{id}/usage answers any id, range, cursor and format safely", async () => {
    const id = fc.oneof(
      { weight: 3, arbitrary: fc.constant(a.accountId) },
      { weight: 1, arbitrary: fc.constantFrom("acct_0000000000000000", "%0d%0aX-Injected:%201", "%22%3B%20filename%3Devil", "acct_%00", "..%2f..") },
      { weight: 1, arbitrary: hostileSegment },
    );
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(id, fc.oneof(usageQuery, queryString, fc.constantFrom("?format=csv", "?format=csv&from=2025-01-01", "?format=csv&from=0&to=99999999999", "?limit=1")), async (account, query) => {
        const path = `/accounts/${account}/usage${query}`;
        const res = await a.admin("GET", path);
        const checked = await checkResponse(res, { describe: `GET /admin/v1${path.slice(0, 300)}`, forbidden: [a.key] });
        expect([200, 400, 404], `${path}: ${checked.text.slice(0, 300)}`).toContain(checked.status);
        const disposition = res.headers.get("content-disposition");
        if (disposition) expect(disposition).toMatch(/^attachment; filename="[\w.-]+"$/);
        seen.add(`${checked.status} ${res.headers.get("content-type")?.split(";")[0]}`);
      }),
      fuzzParams(150, 61),
    );
    // Pages, CSV files and refusals were all reached.
    expect([...seen]).toEqual(expect.arrayContaining(["200 application/json", "200 text/csv", "400 application/json"]));
  });

  it("refuses a malformed Idempotency-Key before the backend, and accepts any well-formed one", async () => {
    const key = fc.oneof(headerValue, fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 300 }));
    const admitted = new Set<string>();
    const ledgerBefore = await ledgerIds(a);
    // Keys already used in this run, with the body they came with: a reuse is a replay or a conflict.
    const used = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(key, fc.integer({ min: 1, max: 3 }), async (idempotencyKey, maxTokens) => {
        const body = JSON.stringify({ model: "limo", prompt: "2+2=", max_tokens: maxTokens });
        const before = await backendRequests(sim);
        const res = await a.send("/v1/completions", body, { "idempotency-key": idempotencyKey });
        const described = `Idempotency-Key ${JSON.stringify(idempotencyKey.slice(0, 80))} (${idempotencyKey.length}) body ${body}`;
        const checked = await checkResponse(res, { describe: described, forbidden: [a.key] });
        const reached = (await backendRequests(sim)) - before;
        // What the Worker sees: the header value with surrounding whitespace trimmed (an empty one is malformed).
        const sent = idempotencyKey.trim();
        const wellFormed = /^[\x21-\x7e]{1,255}$/.test(sent);
        if (!wellFormed) {
          expect(checked.status, described).toBe(400);
          expect(checked.error?.param).toBe("Idempotency-Key");
          expect(reached).toBe(0);
          return;
        }
        const earlier = used.get(sent);
        if (earlier === undefined) {
          expect(checked.status, `${described}: ${checked.text.slice(0, 200)}`).toBe(200);
          expect(reached).toBe(1);
          admitted.add(res.headers.get("x-request-id")!);
          used.set(sent, body);
        } else {
          // A retry: replayed (same body) or refused (another body); the backend is not asked again.
          expect(checked.status, described).toBe(earlier === body ? 200 : 400);
          expect(reached).toBe(0);
        }
      }),
      fuzzParams(100, 62),
    );
    await expectLedger(a, ledgerBefore, admitted);
  });
});
