import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../worker/core/errors";
import {
  accountUsageCsv,
  csvField,
  decodeCursor,
  encodeCursor,
  flushBestEffort,
  parseInstant,
  summaryDays,
} from "../../worker/accounts/ledger/usage-report-service";
import { adminApi } from "../helpers/admin";
import { errorOf } from "../helpers/api";
import { parseCsv, record, rollUp } from "./usage-helpers";

const a = adminApi();

async function expect400(res: Response, param: string, code = "invalid_value"): Promise<void> {
  expect(res.status).toBe(400);
  expect(await errorOf(res)).toMatchObject({ type: "invalid_request_error", code, param });
}

describe("GET /admin/v1/accounts/{id}/usage refuses", () => {
  it("an unknown account with the 404 envelope", async () => {
    for (const path of ["/accounts/acct_0000000000000000/usage", "/accounts/acct_0000000000000000/usage?format=csv"]) {
      const res = await a.admin("GET", path);
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toMatchObject({ code: "not_found", param: "id" });
    }
  });

  const badQueries: [query: string, param: string, code?: string][] = [
    ["from=yesterday", "from"],
    ["from=2025-13-01", "from"],
    ["from=2025-02-30", "from"],
    ["from=2025-11-01T24:00:00Z", "from"],
    ["from=2025-11-01T10:00:00%2B25:00", "from"],
    ["from=1969-12-31", "from"],
    ["from=", "from"],
    ["to=1764000000000000", "to"], // Unix microseconds by mistake: far past year 9999
    ["to=-5", "to"],
    ["to=1.5", "to"],
    ["from=2025-11-02&to=2025-11-01", "to"],
    ["from=2025-11-01&to=2025-11-01", "to"],
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=ten", "limit", "invalid_type"],
    ["limit=2.5", "limit", "invalid_type"],
    ["limit=1&limit=2", "limit", "invalid_type"],
    ["after=not%20a%20cursor", "after"],
    ["after=bm9wZQ", "after"], // base64url of "nope"
    [`after=${btoa("12.").replace(/=+$/, "")}`, "after"],
    [`after=${"A".repeat(257)}`, "after"],
    ["format=xml", "format"],
    ["account_id=acct_other", "account_id", "unknown_parameter"],
    ["format=csv&after=MTc2NDA3MjAwMDEyMy5yZXFfYQ", "after"],
  ];

  it.each(badQueries)("?%s with a 400 naming %s", async (query, param, code) => {
    const { id } = await a.createAccount("Bad queries");
    await expect400(await a.admin("GET", `/accounts/${id}/usage?${query}`), param, code);
  });

  it("a CSV export larger than the bound, asking for a narrower range", async () => {
    const { id } = await a.createAccount("Too big");
    await rollUp([record(id), record(id), record(id)]);
    const err = await accountUsageCsv(env, id, {}, { maxRows: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: "invalid_value", param: "from" });
    expect((err as ApiError).message).toMatch(/3 records.*at most 2/);
    const ok = await accountUsageCsv(env, id, {}, { maxRows: 3 });
    expect(parseCsv(await new Response(ok.body).text())).toHaveLength(4);
  });
});

describe("GET /v1/usage refuses", () => {
  const badQueries: [query: string, param: string, code?: string][] = [
    ["from=2025-13-01", "from"],
    ["from=2025-02-29", "from"],
    ["to=1761955200", "to"],
    ["to=2025-11-01T00:00:00Z", "to"],
    ["from=2025-11-02&to=2025-11-01", "from"],
    ["from=2024-01-01&to=2025-01-01", "from"], // 367 days
    ["account_id=acct_other", "account_id", "unknown_parameter"],
    ["from=2025-11-01&from=2025-11-02", "from", "invalid_type"],
  ];

  it.each(badQueries)("?%s with a 400 naming %s", async (query, param, code) => {
    const { id } = await a.createAccount("Bad summary");
    const { key } = await a.createKey(id);
    await expect400(await a.withKey(key, `/v1/usage?${query}`), param, code);
  });

  it("other methods with 405", async () => {
    const { id } = await a.createAccount("Methods");
    const { key } = await a.createKey(id);
    const res = await a.withKey(key, "/v1/usage", { method: "POST", body: "{}" });
    expect(res.status).toBe(405);
  });
});

describe("usage query parsing", () => {
  it("reads ISO dates, date-times with or without offsets, and Unix seconds", () => {
    const nov1 = Date.UTC(2025, 10, 1);
    expect(parseInstant("2025-11-01", "from")).toBe(nov1);
    expect(parseInstant("2025-11-01T00:00", "from")).toBe(nov1);
    expect(parseInstant("2025-11-01T01:30:00+01:30", "from")).toBe(nov1);
    expect(parseInstant("2025-10-31T19:00:00-0500", "from")).toBe(nov1);
    expect(parseInstant("2025-11-01t00:00:00.250z", "from")).toBe(nov1 + 250);
    expect(parseInstant("2025-11-01 00:00:00.123456789Z", "from")).toBe(nov1 + 123);
    expect(parseInstant("1761955200", "from")).toBe(nov1);
    expect(parseInstant("0", "from")).toBe(0);
    expect(parseInstant("2024-02-29", "from")).toBe(Date.UTC(2024, 1, 29));
    expect(parseInstant("9999-12-31T23:59:59Z", "from")).toBe(Date.UTC(9999, 11, 31, 23, 59, 59));
  });

  it("round-trips cursors and refuses ones it did not make", () => {
    const cursor = encodeCursor({ created_at: 1_764_072_000_123, request_id: "req_0123abcd" });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ createdAt: 1_764_072_000_123, requestId: "req_0123abcd" });
    for (const bad of ["", "=", "a+b", encodeCursor({ created_at: 1, request_id: "" }), btoa("x.req").replace(/=+$/, ""), btoa("1.req with space")]) {
      expect(() => decodeCursor(bad), bad).toThrow(ApiError);
    }
  });

  it("defaults /v1/usage to the current month and a lone `to` to its month", () => {
    const now = Date.UTC(2024, 1, 10, 15);
    expect(summaryDays({}, now)).toEqual({ from: "2024-02-01", to: "2024-02-29" });
    expect(summaryDays({ to: "2023-12-25" }, now)).toEqual({ from: "2023-12-01", to: "2023-12-25" });
    expect(summaryDays({ from: "2024-01-15" }, now)).toEqual({ from: "2024-01-15", to: "2024-02-29" });
    expect(summaryDays({ from: "2024-01-01", to: "2024-12-31" }, now)).toEqual({ from: "2024-01-01", to: "2024-12-31" });
  });

  it("escapes CSV fields and defuses formula-like text", () => {
    expect(["plain", 'say "hi"', "a,b", "two\r\nlines", null, 12, true, "=SUM(A1)", "-1+1", "@x"].map(csvField)).toEqual([
      "plain", '"say ""hi"""', '"a,b"', '"two\r\nlines"', "", "12", "true", "'=SUM(A1)", "'-1+1", "'@x",
    ]);
  });
});

describe("the flush before reading", () => {
  it("never fails the answer: an error or a slow roll-up is logged and D1 is read as it is", async () => {
    await expect(flushBestEffort(() => Promise.reject(new Error("D1 down")), "acct_x")).resolves.toBeUndefined();
    const never = new Promise<void>(() => {});
    const started = Date.now();
    await expect(flushBestEffort(() => never, "acct_x", 20)).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
