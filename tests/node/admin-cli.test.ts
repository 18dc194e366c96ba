import { describe, expect, it } from "vitest";
import { formatAnswer, formatTable, parseCli, parseDurationSeconds, tokenFromDevVars, UsageError } from "../../scripts/admin";
import { formatMicroUsd, type UsageRecordList } from "../../shared/usage";

const NOW_MS = Date.UTC(2026, 10, 25, 12, 0, 0);

describe("admin CLI: arguments", () => {
  it.each([
    [["create-account", "--name", "Tutor Co", "--plan", "pro"], { method: "POST", path: "/accounts", body: { name: "Tutor Co", plan: "pro" } }],
    [["list-accounts", "--limit", "5", "--after", "acct_x"], { method: "GET", path: "/accounts?limit=5&after=acct_x" }],
    [["get-account", "acct_1"], { method: "GET", path: "/accounts/acct_1" }],
    [["suspend", "acct_1"], { method: "PATCH", path: "/accounts/acct_1", body: { status: "suspended" } }],
    [["reactivate", "acct_1"], { method: "PATCH", path: "/accounts/acct_1", body: { status: "active" } }],
    [["set-limits", "acct_1", "--rpm", "60", "--concurrency", "none"], { method: "PATCH", body: { limits: { requests_per_minute: 60, max_concurrent_requests: null } } }],
    [["set-end-user-limits", "acct_1", "--user-rpm", "5", "--user-tokens-per-day", "none", "--require-end-user"], {
      method: "PATCH",
      path: "/accounts/acct_1",
      body: { end_user_limits: { requests_per_minute: 5, tokens_per_day: null }, require_end_user: true },
    }],
    [["set-end-user-limits", "acct_1", "--no-require-end-user"], { method: "PATCH", body: { require_end_user: false } }],
    [["create-key", "acct_1", "--test", "--model", "limo", "--origin", "https://a.example", "--expires-in", "1d"], {
      method: "POST",
      path: "/accounts/acct_1/keys",
      body: { mode: "test", models: ["limo"], origins: ["https://a.example"], expires_at: NOW_MS / 1000 + 86_400 },
    }],
    [["list-keys", "acct_1"], { method: "GET", path: "/accounts/acct_1/keys" }],
    [["revoke", "key_1"], { method: "DELETE", path: "/keys/key_1" }],
    [["rotate", "key_1", "--grace", "3s"], { method: "POST", path: "/keys/key_1/rotate", body: { grace_seconds: 3 } }],
    [["usage", "acct_1"], { method: "GET", path: "/accounts/acct_1/usage", view: "usage" }],
    [["usage", "acct_1", "--from", "2025-11-01", "--to", "2025-12-01T00:00:00+01:00", "--limit", "50", "--after", "abc"], {
      method: "GET",
      path: "/accounts/acct_1/usage?from=2025-11-01&to=2025-12-01T00%3A00%3A00%2B01%3A00&limit=50&after=abc",
      view: "usage",
    }],
    [["usage", "acct_1", "--csv", "--from", "1761955200"], { method: "GET", path: "/accounts/acct_1/usage?from=1761955200&format=csv", view: "csv" }],
  ])("parses %j", (argv, expected) => {
    expect(parseCli(argv, NOW_MS).request).toMatchObject(expected);
  });

  it("reads --json and --url anywhere", () => {
    expect(parseCli(["list-accounts", "--json", "--url", "http://x"])).toMatchObject({ json: true, url: "http://x" });
  });

  it.each([[["nope"]], [["get-account"]], [["create-account"]], [["set-limits", "acct_1"]], [["set-limits", "acct_1", "--rpm", "0"]], [["set-end-user-limits", "acct_1"]], [["set-end-user-limits", "acct_1", "--user-rpm", "-1"]], [["set-end-user-limits", "acct_1", "--require-end-user", "--no-require-end-user"]], [["list-accounts", "--bogus"]], [["rotate", "k", "--grace", "soon"]], [["usage"]], [["usage", "acct_1", "--csv", "--limit", "5"]]])(
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
  it("prints usage records, the range's totals and the next page's cursor", () => {
    const list: UsageRecordList = {
      object: "list",
      data: [
        {
          request_id: "req_a", account_id: "acct_1", key_id: "key_1", model: "limo", backend: "sim", mode: "live", prompt_tokens: 32,
          completion_tokens: 400, cached: false, status: "client_disconnected", ttft_ms: null, duration_ms: 1234, cost_micro_usd: 816,
          created_at: 1_764_072_000_123,
        },
      ],
      has_more: true,
      next_cursor: "MTc2NDA3MjAwMDEyMy5yZXFfYQ",
      totals: { requests: 7, prompt_tokens: 100, completion_tokens: 2000, cost_micro_usd: 12_345_678 },
    };
    const out = formatAnswer("usage", list);
    expect(out).toMatch(/^CREATED\s+REQUEST\s+KEY\s+MODEL/);
    expect(out).toContain("2025-11-25 12:00:00.123Z  req_a");
    expect(out).toMatch(/client_disconnected\s+32\s+400\s+-\s+1234\s+0\.000816/);
    expect(out).toContain("(more: --after MTc2NDA3MjAwMDEyMy5yZXFfYQ)");
    expect(out.trimEnd().split("\n").at(-1)).toBe("Totals over the range: 7 requests, 100 prompt + 2000 completion tokens, $12.345678");
  });

  it("formats micro-dollars exactly", () => {
    expect([0, 1, 999_999, 1_000_000, 12_345_678, -5].map(formatMicroUsd)).toEqual(["0.000000", "0.000001", "0.999999", "1.000000", "12.345678", "-0.000005"]);
  });


  it("aligns columns", () => {
    expect(formatTable(["A", "LONGER"], [["xx", "y"], ["z", "w"]])).toBe("A   LONGER\nxx  y\nz   w");
  });

  it("prints an account's per-end-user limits, and whether an end user is required", () => {
    const account = {
      id: "acct_1", object: "account", name: "Tutors", plan: "dev", status: "active", created_at: 1_764_072_000, updated_at: 1_764_072_000,
      limits: { requests_per_minute: 60, tokens_per_minute: null, max_concurrent_requests: null, monthly_token_quota: null },
      end_user_limits: { requests_per_minute: 5, tokens_per_day: 20_000, max_concurrent_requests: null },
      require_end_user: true,
    };
    const [header, row] = formatAnswer("account", account).split("\n");
    expect(header).toMatch(/LIMITS\s+PER END USER$/);
    expect(row).toMatch(/requests_per_minute=60\s+requests_per_minute=5,tokens_per_day=20000,required$/);
    const none = formatAnswer("account", { ...account, end_user_limits: { requests_per_minute: null, tokens_per_day: null, max_concurrent_requests: null }, require_end_user: false });
    expect(none.split("\n")[1]).toMatch(/requests_per_minute=60\s+-$/);
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

describe("npm run admin -- check (the answer checker, locally)", () => {
  it("prints one row per candidate and exits 0 only when every candidate is equivalent", async () => {
    const { runCheck } = await import("../../scripts/check-answers");
    const lines: string[] = [];
    expect(await runCheck(["1/2", "0.5", "\\frac{1}{2}"], (l) => lines.push(l))).toBe(0);
    expect(lines.join("\n")).toMatch(/0\.5\s+true\s+numeric/);
    lines.length = 0;
    expect(await runCheck(["1/2", "0.5", "2", "--json"], (l) => lines.push(l))).toBe(3);
    const body = JSON.parse(lines[0]!) as { results: { candidate: string; equivalent: boolean | null }[] };
    expect(body.results.map((r) => [r.candidate, r.equivalent])).toEqual([["0.5", true], ["2", false]]);
    expect(await runCheck(["1/2"], () => {})).toBe(2);
    lines.length = 0;
    expect(await runCheck(["12", "I got 12 apples", "--extract"], (l) => lines.push(l))).toBe(0);
  });
});
