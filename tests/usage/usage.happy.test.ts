import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { formatMicroUsd, type UsageRecord } from "../../shared/usage";
import { writeUsageRecords } from "../../worker/accounts/ledger/usage-db";
import { CSV_COLUMNS } from "../../worker/accounts/ledger/usage-report-service";
import { accountStub, adminApi } from "../helpers/admin";
import { limitedAccount } from "../helpers/limits";
import { allPages, csvObjects, record, rollUp, usagePage, usageSummary } from "./usage-helpers";

const a = adminApi();
const DAY_MS = 86_400_000;
const NOV_1 = Date.UTC(2025, 10, 1);

/** The API's order: newest first, request id breaking ties. */
const newestFirst = (x: UsageRecord, y: UsageRecord) => y.created_at - x.created_at || (y.request_id < x.request_id ? -1 : y.request_id > x.request_id ? 1 : 0);

function totalsOf(records: readonly UsageRecord[]) {
  const sum = (f: (r: UsageRecord) => number) => records.reduce((s, r) => s + f(r), 0);
  return {
    requests: records.length,
    prompt_tokens: sum((r) => r.prompt_tokens),
    completion_tokens: sum((r) => r.completion_tokens),
    cost_micro_usd: sum((r) => r.cost_micro_usd),
  };
}

/** The ledger as /v1/usage should sum it (one model here): a row per UTC day. */
function byDay(entries: readonly Omit<UsageRecord, "account_id">[]) {
  const days = new Map<string, { day: string; model: string; requests: number; prompt_tokens: number; completion_tokens: number; cached_requests: number; cost_micro_usd: number }>();
  for (const e of entries) {
    const day = new Date(e.created_at).toISOString().slice(0, 10);
    const row = days.get(day) ?? { day, model: e.model, requests: 0, prompt_tokens: 0, completion_tokens: 0, cached_requests: 0, cost_micro_usd: 0 };
    row.requests++;
    row.prompt_tokens += e.prompt_tokens;
    row.completion_tokens += e.completion_tokens;
    row.cached_requests += e.cached ? 1 : 0;
    row.cost_micro_usd += e.cost_micro_usd;
    days.set(day, row);
  }
  return [...days.keys()].sort().map((d) => days.get(d));
}

async function countRows(table: "usage_records" | "usage_daily", accountId: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE account_id = ?`).bind(accountId).first<{ n: number }>();
  return row!.n;
}

describe("GET /admin/v1/accounts/{id}/usage", () => {
  it("includes requests the moment they end, newest first, under the x-request-id each client saw", async () => {
    const acct = await limitedAccount();
    const seen: string[] = [];
    for (const maxTokens of [3, 5, 7]) {
      const res = await acct.chat({ max_tokens: maxTokens });
      expect(res.status).toBe(200);
      seen.push(res.headers.get("x-request-id")!);
      await res.json();
    }
    const ledger = await acct.settledLedger(3);
    // No waiting for the roll-up alarm: the API copies the ledger to D1 itself.
    const page = await usagePage(acct.a, acct.accountId);
    const expected = ledger.map((e) => ({ ...e, account_id: acct.accountId })).sort(newestFirst);
    expect(page.data).toEqual(expected);
    expect(page.data.map((r) => r.request_id).sort()).toEqual([...seen].sort());
    expect(page).toMatchObject({ object: "list", has_more: false, totals: totalsOf(expected) });
    expect(page.totals.cost_micro_usd).toBeGreaterThan(0);
    expect(await countRows("usage_records", acct.accountId)).toBe(3);
  });

  it("pages with a cursor through every record exactly once, ties included, with the range's totals on every page", async () => {
    const { id } = await a.createAccount("Pages");
    // 23 records on 9 distinct instants: many share a created_at, so the request id must break ties.
    const records = Array.from({ length: 23 }, (_, i) => record(id, { created_at: NOV_1 + (i % 9) * 1000 }));
    await rollUp(records);
    const { records: seen, pages } = await allPages(a, id, { limit: 5 });
    expect(pages).toBe(5);
    expect(seen).toEqual([...records].sort(newestFirst));
    expect(new Set(seen.map((r) => r.request_id)).size).toBe(23);
    const first = await usagePage(a, id, { limit: 5 });
    expect(first.data).toHaveLength(5);
    expect(first.totals).toEqual(totalsOf(records));
    const last = await usagePage(a, id, { limit: 100 });
    expect(last).toMatchObject({ has_more: false, totals: totalsOf(records) });
  });

  it("filters by time: from inclusive, to exclusive, as ISO dates, date-times with offsets, or Unix seconds", async () => {
    const { id } = await a.createAccount("Ranges");
    const instants = [
      NOV_1, NOV_1 + 1, NOV_1 + DAY_MS / 2, NOV_1 + DAY_MS - 1, NOV_1 + DAY_MS, NOV_1 + DAY_MS + 3_600_000,
      NOV_1 + 2 * DAY_MS + 7_200_000, NOV_1 + 3 * DAY_MS, NOV_1 + 4 * DAY_MS - 1, NOV_1 + 5 * DAY_MS + 1,
    ];
    const records = instants.map((t) => record(id, { created_at: t }));
    await rollUp(records);
    const iso = (ms: number) => new Date(ms).toISOString();
    const cases: [query: Record<string, string>, from: number | undefined, to: number | undefined][] = [
      [{}, undefined, undefined],
      [{ from: "2025-11-02" }, NOV_1 + DAY_MS, undefined],
      [{ to: "2025-11-02" }, undefined, NOV_1 + DAY_MS],
      [{ from: "2025-11-01", to: "2025-11-02" }, NOV_1, NOV_1 + DAY_MS],
      // Partial days at both edges, whole days between: the totals mix daily rows and records.
      [{ from: iso(NOV_1 + 1), to: iso(NOV_1 + 4 * DAY_MS - 1) }, NOV_1 + 1, NOV_1 + 4 * DAY_MS - 1],
      [{ from: "2025-11-01T14:00:00+02:00", to: "2025-11-03T02:00" }, NOV_1 + DAY_MS / 2, NOV_1 + 2 * DAY_MS + 7_200_000],
      [{ from: String(NOV_1 / 1000 + 1), to: String((NOV_1 + DAY_MS) / 1000) }, NOV_1 + 1000, NOV_1 + DAY_MS],
      [{ from: iso(NOV_1 + 2 * DAY_MS + 1), to: iso(NOV_1 + 2 * DAY_MS + 7_200_001) }, NOV_1 + 2 * DAY_MS + 1, NOV_1 + 2 * DAY_MS + 7_200_001],
    ];
    for (const [query, from, to] of cases) {
      const expected = records.filter((r) => (from === undefined || r.created_at >= from) && (to === undefined || r.created_at < to)).sort(newestFirst);
      const page = await usagePage(a, id, { ...query, limit: 3 });
      expect(page.totals, JSON.stringify(query)).toEqual(totalsOf(expected));
      expect((await allPages(a, id, { ...query, limit: 4 })).records, JSON.stringify(query)).toEqual(expected);
    }
  });

  it("exports the range as CSV that parses back to exactly the JSON records", async () => {
    const { id } = await a.createAccount("Invoices");
    const records = Array.from({ length: 1_005 }, (_, i) =>
      record(id, {
        created_at: NOV_1 + i * 60_000,
        cached: i % 10 === 0,
        ttft_ms: i % 7 === 0 ? null : i,
        status: i % 13 === 0 ? "client_disconnected" : "ok",
        cost_micro_usd: i * 1_234_567,
        // Needs quoting: a comma, a quote and a line break.
        backend: i === 3 ? 'gpu "a", west\r\nrack 2' : "sim",
      }),
    );
    await rollUp(records);
    const res = await a.admin("GET", `/accounts/${id}/usage?format=csv&from=2025-11-01&to=2025-11-05`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="usage-${id}-2025-11-01-2025-11-05.csv"`);
    const text = await res.text();
    expect(text.slice(0, text.indexOf("\r\n"))).toBe(CSV_COLUMNS.join(","));
    const rows = csvObjects(text);
    const json = (await allPages(a, id, { from: "2025-11-01", to: "2025-11-05", limit: 1000 })).records;
    expect(json).toHaveLength(1_005);
    expect(rows).toEqual(
      json.map((r) => ({
        request_id: r.request_id,
        created_at: new Date(r.created_at).toISOString(),
        account_id: r.account_id,
        key_id: r.key_id,
        model: r.model,
        backend: r.backend,
        mode: r.mode,
        status: r.status,
        cached: String(r.cached),
        prompt_tokens: String(r.prompt_tokens),
        completion_tokens: String(r.completion_tokens),
        ttft_ms: r.ttft_ms === null ? "" : String(r.ttft_ms),
        duration_ms: String(r.duration_ms),
        cost_micro_usd: String(r.cost_micro_usd),
        cost_usd: formatMicroUsd(r.cost_micro_usd),
        end_user: r.end_user ?? "",
        endpoint: r.endpoint ?? "",
      })),
    );
    expect(rows.find((r) => r.backend !== "sim")!.backend).toBe('gpu "a", west\r\nrack 2');
    expect(rows.find((r) => r.cost_micro_usd === "1234567")!.cost_usd).toBe("1.234567");
  });

  it("names a CSV export by its bounds, up to now when `to` is absent", async () => {
    const { id } = await a.createAccount("Names");
    await rollUp([record(id)]);
    const res = await a.admin("GET", `/accounts/${id}/usage?format=csv&from=1761993000`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(new RegExp(`^attachment; filename="usage-${id}-2025-11-01T103000Z-\\d{4}-\\d{2}-\\d{2}(T\\d{6}Z)?\\.csv"$`));
    expect(csvObjects(await res.text())).toHaveLength(1);
  });

  it("answers an account without usage with an empty list and zero totals (and a CSV of just the header)", async () => {
    const { id } = await a.createAccount("Quiet");
    expect(await usagePage(a, id)).toEqual({
      object: "list",
      data: [],
      has_more: false,
      totals: { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_micro_usd: 0 },
    });
    const csv = await a.admin("GET", `/accounts/${id}/usage?format=csv`);
    expect(await csv.text()).toBe(`${CSV_COLUMNS.join(",")}\r\n`);
  });
});

describe("GET /v1/usage", () => {
  it("gives a key holder the account's totals by UTC day and model, days inclusive", async () => {
    const { id } = await a.createAccount("Daily");
    const { key } = await a.createKey(id);
    const spec: [day: number, model: string, extra: Partial<UsageRecord>][] = [
      [0, "limo", {}],
      [0, "limo", { key_id: "key_other", cached: true }],
      [0, "limo-v2", {}],
      [1, "limo", { mode: "test", cost_micro_usd: 0 }],
      [2, "limo-v2", {}],
      [2, "limo-v2", { cached: true }],
      [3, "limo", {}],
    ];
    const records = spec.map(([day, model, extra], i) => record(id, { model, created_at: NOV_1 + day * DAY_MS + i * 1000, ...extra }));
    await rollUp(records);
    const usage = await usageSummary(a, key, "?from=2025-11-01&to=2025-11-03");
    const inRange = records.filter((r) => r.created_at < NOV_1 + 3 * DAY_MS);
    const expected = new Map<string, { day: string; model: string; requests: number; prompt_tokens: number; completion_tokens: number; cached_requests: number; cost_micro_usd: number }>();
    for (const r of inRange) {
      const day = new Date(r.created_at).toISOString().slice(0, 10);
      const row = expected.get(`${day} ${r.model}`) ?? { day, model: r.model, requests: 0, prompt_tokens: 0, completion_tokens: 0, cached_requests: 0, cost_micro_usd: 0 };
      row.requests++;
      row.prompt_tokens += r.prompt_tokens;
      row.completion_tokens += r.completion_tokens;
      row.cached_requests += r.cached ? 1 : 0;
      row.cost_micro_usd += r.cost_micro_usd;
      expected.set(`${day} ${r.model}`, row);
    }
    expect(usage).toEqual({
      object: "usage",
      account_id: id,
      from: "2025-11-01",
      to: "2025-11-03",
      data: [...expected.keys()].sort().map((k) => expected.get(k)),
      totals: { ...totalsOf(inRange), cached_requests: 2 },
    });
    expect(usage.data.map((d) => `${d.day} ${d.model}`)).toEqual(["2025-11-01 limo", "2025-11-01 limo-v2", "2025-11-02 limo", "2025-11-03 limo-v2"]);
    const oneDay = await usageSummary(a, key, "?from=2025-11-04&to=2025-11-04");
    expect(oneDay.totals.requests).toBe(1);
  });

  it("defaults to the current UTC month and includes requests that just ended, for live and test keys alike", async () => {
    const acct = await limitedAccount();
    for (const maxTokens of [4, 6]) await (await acct.chat({ max_tokens: maxTokens })).json();
    const ledger = await acct.settledLedger(2);
    const { key: testKey } = await acct.a.createKey(acct.accountId, { mode: "test" });
    for (const key of [acct.key, testKey]) {
      const before = new Date().toISOString().slice(0, 10);
      const usage = await usageSummary(acct.a, key);
      const after = new Date().toISOString().slice(0, 10);
      // The current month (read around the call, so a run across midnight still agrees).
      expect(usage).toMatchObject({ object: "usage", account_id: acct.accountId });
      expect(usage.from).toBe(`${usage.to.slice(0, 7)}-01`);
      expect(usage.to).toBe(new Date(Date.UTC(Number(usage.to.slice(0, 4)), Number(usage.to.slice(5, 7)), 0)).toISOString().slice(0, 10));
      expect([before, after].some((today) => today >= usage.from && today <= usage.to)).toBe(true);
      const inRange = ledger.filter((e) => {
        const day = new Date(e.created_at).toISOString().slice(0, 10);
        return day >= usage.from && day <= usage.to;
      });
      expect(usage.data).toEqual(byDay(inRange));
    }
  });

  it("sums a month with only `to` given from the first of that month", async () => {
    const { id } = await a.createAccount("Months");
    const { key } = await a.createKey(id);
    await rollUp([record(id, { created_at: Date.UTC(2025, 9, 31, 23) }), record(id, { created_at: Date.UTC(2025, 10, 30, 23) })]);
    const usage = await usageSummary(a, key, "?to=2025-11-30");
    expect(usage).toMatchObject({ from: "2025-11-01", to: "2025-11-30", totals: { requests: 1 } });
  });
});

describe("the roll-up into D1", () => {
  it("is idempotent: the same entries written twice, or concurrently, leave one row per request and the same daily totals", async () => {
    const { id } = await a.createAccount("Twice");
    const records = Array.from({ length: 30 }, (_, i) => record(id, { created_at: NOV_1 + (i % 3) * DAY_MS + i, model: i % 2 ? "limo" : "limo-v2" }));
    await writeUsageRecords(env.DB, records);
    const daily = async () => (await env.DB.prepare("SELECT * FROM usage_daily WHERE account_id = ? ORDER BY day, key_id, model").bind(id).all()).results;
    const before = await daily();
    expect(before).toHaveLength(6);
    await writeUsageRecords(env.DB, records);
    await Promise.all([writeUsageRecords(env.DB, records.slice(0, 20)), writeUsageRecords(env.DB, records.slice(10)), writeUsageRecords(env.DB, records)]);
    expect(await countRows("usage_records", id)).toBe(30);
    expect(await daily()).toEqual(before);
    const summary = await usageSummary(a, (await a.createKey(id)).key, "?from=2025-11-01&to=2025-11-03");
    expect(summary.totals).toEqual({ ...totalsOf(records), cached_requests: 0 });
  });

  it("is idempotent through the account object: flushing again, even entries it already copied, changes nothing", async () => {
    const acct = await limitedAccount();
    for (let i = 0; i < 3; i++) await (await acct.chat({ max_tokens: 3 })).json();
    const ledger = await acct.settledLedger(3);
    const stub = accountStub(acct.accountId);
    await stub.flushUsage();
    await stub.flushUsage();
    // As if an earlier roll-up reached D1 but died before marking its entries copied.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE ledger SET rolled_up = 0");
    });
    await stub.flushUsage();
    expect(await countRows("usage_records", acct.accountId)).toBe(3);
    const daily = await env.DB.prepare("SELECT requests, prompt_tokens, completion_tokens FROM usage_daily WHERE account_id = ?").bind(acct.accountId).all();
    expect(daily.results).toEqual([
      {
        requests: 3,
        prompt_tokens: ledger.reduce((s, e) => s + e.prompt_tokens, 0),
        completion_tokens: ledger.reduce((s, e) => s + e.completion_tokens, 0),
      },
    ]);
    expect((await usagePage(acct.a, acct.accountId)).totals.requests).toBe(3);
  });
});

describe("the OpenAPI document", () => {
  it("documents both usage routes, the admin one only where the admin API exists", async () => {
    type Doc = { paths: Record<string, { get?: { security?: unknown; description?: string; parameters?: { name: string }[] } }>; components: { schemas: Record<string, unknown> } };
    const doc = (await (await a.fetch("/openapi.json")).json()) as Doc;
    const admin = doc.paths["/admin/v1/accounts/{id}/usage"]!.get!;
    expect(admin.security).toEqual([{ AdminToken: [] }]);
    expect(admin.parameters!.map((p) => p.name).sort()).toEqual(["after", "end_user", "format", "from", "id", "limit", "to"]);
    const usage = doc.paths["/v1/usage"]!.get!;
    expect(usage.security).toEqual([{ ApiKey: [] }]);
    expect(usage.parameters!.map((p) => p.name).sort()).toEqual(["from", "to"]);
    for (const schema of ["UsageRecord", "UsageRecordList", "UsageTotals", "UsageSummary", "DailyModelUsage"]) expect(doc.components.schemas).toHaveProperty(schema);
    const closed = (await (await adminApi({ ADMIN_TOKEN: undefined }).fetch("/openapi.json")).json()) as Doc;
    expect(closed.paths).toHaveProperty("/v1/usage");
    expect(closed.paths).not.toHaveProperty("/admin/v1/accounts/{id}/usage");
  });
});
