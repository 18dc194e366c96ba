import { describe, expect, it } from "vitest";
import type { Account } from "../../shared/admin";
import type { UsageRecordList } from "../../shared/usage";
import { errorOf } from "../helpers/api";
import { platform } from "../helpers/platform";

describe("limits per end user", () => {
  it("admits exactly the limit of one student's burst of 60 while another student is served", async () => {
    const p = await platform({ requests_per_minute: 5 });
    const [burst, other] = await Promise.all([
      Promise.all(Array.from({ length: 60 }, () => p.student("student-ada", { max_tokens: 2 }))),
      Promise.all(Array.from({ length: 3 }, () => p.student("student-bo", { max_tokens: 2 }))),
    ]);
    expect(burst.filter((r) => r.status === 200)).toHaveLength(5);
    const refused = burst.filter((r) => r.status === 429);
    expect(refused).toHaveLength(55);
    expect(other.map((r) => r.status)).toEqual([200, 200, 200]);
    const first = refused[0]!;
    expect(Number(first.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(first.headers.get("retry-after-ms"))).toBeGreaterThanOrEqual(1000);
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("5");
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(await errorOf(first)).toMatchObject({ code: "end_user_rate_limit_exceeded", type: "requests" });
    await Promise.all([...burst, ...other].filter((r) => !r.bodyUsed).map((r) => r.text()));
    const ledger = await p.settledLedger(8);
    expect(ledger.filter((e) => e.end_user === "student-ada")).toHaveLength(5);
    expect(ledger.filter((e) => e.end_user === "student-bo")).toHaveLength(3);
    // 63 requests at once: room for a machine shared with other work.
  }, 30_000);

  it("holds one student to one request at a time under 50 concurrent requests", async () => {
    const p = await platform({ max_concurrent_requests: 1 });
    await p.sim.configure({ tokens_per_second: 200 });
    const responses = await Promise.all(Array.from({ length: 50 }, () => p.student("student-ada", { max_tokens: 10, stream: true })));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 429)).toHaveLength(49);
    await Promise.all(responses.map((r) => r.text()));
    await p.settledLedger(1);
    // The slot comes back once the request settles.
    expect((await p.student("student-ada", { max_tokens: 2 })).status).toBe(200);
  });

  it("keeps a student within tokens per day, counting what was used, not what was reserved", async () => {
    const p = await platform({ tokens_per_day: 600 });
    const responses = await Promise.all(Array.from({ length: 20 }, () => p.student("student-ada", { max_tokens: 100 })));
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    expect(ok.length).toBeGreaterThan(0);
    for (const r of refused) expect((await errorOf(r)).code).toBe("end_user_quota_exceeded");
    await Promise.all(ok.map((r) => r.json()));
    const ledger = await p.settledLedger(ok.length);
    const billed = ledger.reduce((sum, e) => sum + e.prompt_tokens + e.completion_tokens, 0);
    expect(billed).toBeLessThanOrEqual(600);
    // Another student has a day of their own.
    expect((await p.student("student-bo", { max_tokens: 100 })).status).toBe(200);
  });

  it("records the end user: safety_identifier, else a user of at most 64 characters", async () => {
    const p = await platform();
    const long = "u".repeat(65);
    for (const body of [{ safety_identifier: "sid-1", user: "legacy" }, { user: "legacy-2" }, { user: long }, {}]) {
      expect((await p.chat({ ...body, max_tokens: 2 })).status).toBe(200);
    }
    const ledger = await p.settledLedger(4);
    expect(ledger.map((e) => e.end_user).sort()).toEqual(["legacy-2", "sid-1", null, null].sort());
  });

  it("filters the usage API by end user and returns end_user on every record", async () => {
    const p = await platform();
    for (const who of ["ada", "ada", "bo"]) expect((await p.student(who, { max_tokens: 2 })).status).toBe(200);
    await p.settledLedger(3);
    const res = await p.a.admin("GET", `/accounts/${p.accountId}/usage?end_user=ada`);
    expect(res.status).toBe(200);
    const list = (await res.json()) as UsageRecordList;
    expect(list.data.map((r) => r.end_user)).toEqual(["ada", "ada"]);
    expect(list.totals.requests).toBe(2);
    const all = (await (await p.a.admin("GET", `/accounts/${p.accountId}/usage`)).json()) as UsageRecordList;
    expect(all.data.map((r) => r.end_user).sort()).toEqual(["ada", "ada", "bo"]);
  });

  it("shows and clears per-end-user limits on the account, and enforces require_end_user", async () => {
    const p = await platform({ requests_per_minute: 5, tokens_per_day: 20_000 }, { require_end_user: true });
    const account = (await (await p.a.admin("GET", `/accounts/${p.accountId}`)).json()) as Account;
    expect(account.end_user_limits).toEqual({ requests_per_minute: 5, tokens_per_day: 20_000, max_concurrent_requests: null });
    expect(account.require_end_user).toBe(true);
    const missing = await p.chat({ max_tokens: 2 });
    expect(missing.status).toBe(400);
    expect(await errorOf(missing)).toMatchObject({ code: "missing_required_parameter", param: "safety_identifier" });
    const patched = await p.a.admin("PATCH", `/accounts/${p.accountId}`, { end_user_limits: { requests_per_minute: null }, require_end_user: false });
    expect(((await patched.json()) as Account).end_user_limits.requests_per_minute).toBeNull();
    expect((await p.chat({ max_tokens: 2 })).status).toBe(200);
    expect(await p.settledLedger(1)).toHaveLength(1);
  });
});
