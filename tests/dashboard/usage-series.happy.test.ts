import { describe, expect, it } from "vitest";
import type { UsageRecord } from "../../shared/usage";
import { adminApi } from "../helpers/admin";
import { limitedAccount } from "../helpers/limits";
import { record, rollUp, usagePage, usageSummary } from "../usage/usage-helpers";
import { adminAccountSeries, expectedSeries, keySeries, overviewSeries } from "./series-helpers";

const a = adminApi();
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
// Long past, so nothing the other tests send is in these ranges.
const MAR_27 = Date.UTC(2021, 2, 27);

/** A day of varied traffic: three models' worth of statuses, latencies from 1 to 97 ms, some without a first token. */
function traffic(accountId: string, start: number, count: number): UsageRecord[] {
  const statuses = ["ok", "ok", "ok", "client_disconnected", "ok", "backend_error", "ok", "timeout"] as const;
  return Array.from({ length: count }, (_, i) =>
    record(accountId, {
      created_at: start + ((i * 7919) % 97) * 15 * 60_000 + i,
      model: i % 3 === 0 ? "limo-v2" : "limo",
      status: statuses[i % statuses.length]!,
      ttft_ms: i % 10 === 9 ? null : 1 + ((i * 37) % 97),
      duration_ms: 100 + ((i * 53) % 1000),
      cost_micro_usd: 10 + (i % 13),
      cached: i % 9 === 0,
    }),
  );
}

describe("usage series: one account", () => {
  it("gives every hour's requests by status, tokens and cost by model and nearest-rank percentiles, as computed from the records", async () => {
    const { id } = await a.createAccount("Series, hourly");
    const records = traffic(id, MAR_27, 300);
    await rollUp(records);
    const from = MAR_27;
    const to = MAR_27 + DAY_MS;
    const series = await adminAccountSeries(a, id, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket: "hour" });
    const expected = expectedSeries(records, from, to, "hour", "UTC");
    expect(series.t).toHaveLength(24);
    expect(series).toMatchObject({ object: "usage.series", bucket: "hour", tz: "UTC", from, to, account: { id, name: "Series, hourly" }, top_end_users: [] });
    expect(series.t).toEqual(expected.t);
    expect(series.requests).toEqual(expected.requests);
    expect(series.prompt_tokens).toEqual(expected.prompt_tokens);
    expect(series.completion_tokens).toEqual(expected.completion_tokens);
    expect(series.cost_micro_usd).toEqual(expected.cost_micro_usd);
    expect(series.ttft_ms).toEqual(expected.ttft_ms);
    expect(series.duration_ms).toEqual(expected.duration_ms);
    expect(series.totals.ttft_ms).toEqual(expected.totals.ttft_ms);
    expect(series.totals.duration_ms).toEqual(expected.totals.duration_ms);
    expect(series.totals.cached_requests).toBe(records.filter((r) => r.cached).length);
    expect(series.totals.error_rate).toBeCloseTo(records.filter((r) => r.status !== "ok").length / records.length);
  });

  it("sums to what the admin usage API returns for the same range, and a day bucket to what GET /v1/usage returns", async () => {
    const { id } = await a.createAccount("Series against the usage APIs");
    const { key } = await a.createKey(id);
    const records = [...traffic(id, MAR_27, 120), ...traffic(id, MAR_27 + 3 * DAY_MS, 80)];
    await rollUp(records);
    const range = { from: "2021-03-27", to: "2021-03-31" };
    const days = await keySeries(a, key, { ...range, bucket: "day", tz: "UTC" });
    expect(days.t).toEqual([0, 1, 2, 3].map((d) => MAR_27 + d * DAY_MS));
    const page = await usagePage(a, id, { ...range, limit: 1 });
    const tokens = (s: Record<string, number[]>) => Object.values(s).flat().reduce((x, y) => x + y, 0);
    expect({
      requests: days.totals.requests,
      prompt_tokens: tokens(days.prompt_tokens),
      completion_tokens: tokens(days.completion_tokens),
      cost_micro_usd: tokens(days.cost_micro_usd),
    }).toEqual(page.totals);
    expect(days.totals).toMatchObject(page.totals);
    // GET /v1/usage: a row per UTC day and model that had requests; the series has the same numbers in its columns.
    const summary = await usageSummary(a, key, "?from=2021-03-27&to=2021-03-30");
    for (const row of summary.data) {
      const i = days.t.indexOf(Date.parse(`${row.day}T00:00:00Z`));
      expect(days.prompt_tokens[row.model]![i], `${row.day} ${row.model}`).toBe(row.prompt_tokens);
      expect(days.completion_tokens[row.model]![i]).toBe(row.completion_tokens);
      expect(days.cost_micro_usd[row.model]![i]).toBe(row.cost_micro_usd);
      expect(Object.values(days.requests).reduce((s, col) => s + col[i]!, 0)).toBe(summary.data.filter((d) => d.day === row.day).reduce((s, d) => s + d.requests, 0));
    }
    expect(summary.data.length).toBeGreaterThan(0);
    // The key holder's view and the operator's view of the account are the same answer.
    expect(await adminAccountSeries(a, id, { ...range, bucket: "day", tz: "UTC" })).toEqual(days);
  });

  it("aligns buckets to the viewer's zone: India's days start at 18:30 UTC, its hours at half past", async () => {
    const { id } = await a.createAccount("Series in Kolkata");
    const records = traffic(id, MAR_27, 150);
    await rollUp(records);
    const from = MAR_27 - DAY_MS;
    const to = MAR_27 + 2 * DAY_MS;
    const days = await adminAccountSeries(a, id, { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket: "day", tz: "Asia/Kolkata" });
    const expected = expectedSeries(records, from, to, "day", "Asia/Kolkata");
    expect(days.t.map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(["18:30", "18:30", "18:30", "18:30"]);
    expect(days.requests).toEqual(expected.requests);
    expect(days.completion_tokens).toEqual(expected.completion_tokens);
    expect(days.ttft_ms).toEqual(expected.ttft_ms);
    const hours = await adminAccountSeries(a, id, { from: new Date(MAR_27).toISOString(), to: new Date(MAR_27 + 6 * HOUR_MS).toISOString(), bucket: "hour", tz: "Asia/Kolkata" });
    expect(hours.t[0]).toBe(MAR_27 - 30 * 60_000);
    expect(hours.t).toHaveLength(7);
    expect(hours.requests).toEqual(expectedSeries(records, MAR_27, MAR_27 + 6 * HOUR_MS, "hour", "Asia/Kolkata").requests);
  });

  it("draws requests that ended a moment ago, in five-minute buckets, with defaults of the last 24 hours in hours", async () => {
    const acct = await limitedAccount();
    for (const maxTokens of [3, 5]) await (await acct.chat({ max_tokens: maxTokens })).json();
    await acct.settledLedger(2);
    const now = Date.now();
    const recent = await keySeries(acct.a, acct.key, { from: new Date(now - HOUR_MS).toISOString(), bucket: "5min" });
    expect(recent.t.length).toBeGreaterThanOrEqual(12);
    expect(recent.t.length).toBeLessThanOrEqual(13);
    expect(recent.requests.ok.reduce((s, n) => s + n, 0)).toBe(2);
    expect(recent.ttft_ms.p50.filter((p) => p !== null).length).toBeGreaterThan(0);
    const byDefault = await keySeries(acct.a, acct.key, {});
    expect(byDefault).toMatchObject({ bucket: "hour", tz: "UTC" });
    expect(byDefault.t.length).toBeGreaterThanOrEqual(24);
    expect(byDefault.t.length).toBeLessThanOrEqual(25);
    expect(byDefault.totals.requests).toBe(2);
  });

  it("answers an account without requests with zeros, nulls and no models", async () => {
    const { id } = await a.createAccount("Quiet");
    const series = await adminAccountSeries(a, id, { from: "2021-03-27", to: "2021-03-28", bucket: "hour" });
    expect(series.t).toHaveLength(24);
    expect(series.requests.ok).toEqual(new Array(24).fill(0));
    expect(series.ttft_ms.p95).toEqual(new Array(24).fill(null));
    expect(series.models).toEqual([]);
    expect(series.totals).toMatchObject({ requests: 0, error_rate: null });
  });
});

describe("usage series: every account", () => {
  it("adds up every account and names the ones that used the most, most tokens first", async () => {
    // A day no other test writes to.
    const day = Date.UTC(2021, 4, 9);
    const big = await a.createAccount("<img src=x onerror=alert(1)>");
    const small = await a.createAccount("Small tutor");
    const bigRecords = traffic(big.id, day, 60);
    const smallRecords = traffic(small.id, day, 10);
    await rollUp([...bigRecords, ...smallRecords]);
    const series = await overviewSeries(a, { from: "2021-05-09", to: "2021-05-10", bucket: "hour" });
    const expected = expectedSeries([...bigRecords, ...smallRecords], day, day + DAY_MS, "hour", "UTC");
    expect(series.requests).toEqual(expected.requests);
    expect(series.completion_tokens).toEqual(expected.completion_tokens);
    expect(series.ttft_ms).toEqual(expected.ttft_ms);
    const tokens = (rs: UsageRecord[]) => rs.reduce((s, r) => s + r.prompt_tokens + r.completion_tokens, 0);
    expect(series.top_accounts.map((t) => [t.account_id, t.name, t.requests, t.prompt_tokens + t.completion_tokens])).toEqual([
      [big.id, "<img src=x onerror=alert(1)>", 60, tokens(bigRecords)],
      [small.id, "Small tutor", 10, tokens(smallRecords)],
    ]);
    expect(series).not.toHaveProperty("account");
  });
});
