import { describe, expect, it } from "vitest";
import { formatAnswer, formatTable, parseCli, parseDurationSeconds, tokenFromDevVars, UsageError } from "../../scripts/admin";

const NOW_MS = Date.UTC(2026, 10, 25, 12, 0, 0);

describe("admin CLI: arguments", () => {
  it.each([
    [["create-account", "--name", "Tutor Co", "--plan", "pro"], { method: "POST", path: "/accounts", body: { name: "Tutor Co", plan: "pro" } }],
    [["list-accounts", "--limit", "5", "--after", "acct_x"], { method: "GET", path: "/accounts?limit=5&after=acct_x" }],
    [["get-account", "acct_1"], { method: "GET", path: "/accounts/acct_1" }],
    [["suspend", "acct_1"], { method: "PATCH", path: "/accounts/acct_1", body: { status: "suspended" } }],
    [["reactivate", "acct_1"], { method: "PATCH", path: "/accounts/acct_1", body: { status: "active" } }],
    [["set-limits", "acct_1", "--rpm", "60", "--concurrency", "none"], { method: "PATCH", body: { limits: { requests_per_minute: 60, max_concurrent_requests: null } } }],
    [["create-key", "acct_1", "--test", "--model", "limo", "--origin", "https://a.example", "--expires-in", "1d"], {
      method: "POST",
      path: "/accounts/acct_1/keys",
      body: { mode: "test", models: ["limo"], origins: ["https://a.example"], expires_at: NOW_MS / 1000 + 86_400 },
    }],
    [["list-keys", "acct_1"], { method: "GET", path: "/accounts/acct_1/keys" }],
    [["revoke", "key_1"], { method: "DELETE", path: "/keys/key_1" }],
    [["rotate", "key_1", "--grace", "3s"], { method: "POST", path: "/keys/key_1/rotate", body: { grace_seconds: 3 } }],
  ])("parses %j", (argv, expected) => {
    expect(parseCli(argv, NOW_MS).request).toMatchObject(expected);
  });

  it("reads --json and --url anywhere", () => {
    expect(parseCli(["list-accounts", "--json", "--url", "http://x"])).toMatchObject({ json: true, url: "http://x" });
  });

  it.each([[["nope"]], [["get-account"]], [["create-account"]], [["set-limits", "acct_1"]], [["set-limits", "acct_1", "--rpm", "0"]], [["list-accounts", "--bogus"]], [["rotate", "k", "--grace", "soon"]]])(
    "refuses %j as a usage error",
    (argv) => {
      expect(() => parseCli(argv)).toThrow(UsageError);
    },
  );

  it("parses durations", () => {
    expect([parseDurationSeconds("90"), parseDurationSeconds("3s"), parseDurationSeconds("10m"), parseDurationSeconds("2h"), parseDurationSeconds("30d")]).toEqual([90, 3, 600, 7200, 2_592_000]);
  });

  it("reads ADMIN_TOKEN from .dev.vars text", () => {
    expect(tokenFromDevVars("# c\nDEV_API_KEY=x\nADMIN_TOKEN=\"abc\"\n")).toBe("abc");
    expect(tokenFromDevVars("DEV_API_KEY=x")).toBeUndefined();
  });
});

describe("admin CLI: output", () => {
  it("aligns columns", () => {
    expect(formatTable(["A", "LONGER"], [["xx", "y"], ["z", "w"]])).toBe("A   LONGER\nxx  y\nz   w");
  });

  it("prints a created key's secret once, after the table", () => {
    const out = formatAnswer("key", {
      id: "key_1", object: "api_key", account_id: "acct_1", name: null, mode: "live", status: "active", prefix: "limo_sk_abcdefgh",
      created_at: 1_764_072_000, expires_at: null, revoked_at: null, last_used_at: null, models: null, origins: null, rotated_to: null,
      key: "limo_sk_secret",
    });
    expect(out).toMatch(/^ID\s+NAME\s+MODE/);
    expect(out).toContain("2025-11-25 12:00:00Z");
    expect(out.trimEnd().endsWith("limo_sk_secret")).toBe(true);
  });
});
