/**
 * The top end users of an account's series. The ledger's `end_user` column
 * (`TEXT NULL`) comes with its own migration; until it has landed this file
 * adds it itself, so the query written against it is tested either way.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { UsageRecord } from "../../shared/usage";
import { adminApi } from "../helpers/admin";
import { record, rollUp } from "../usage/usage-helpers";
import { adminAccountSeries } from "./series-helpers";

const a = adminApi();
const NOON = Date.UTC(2021, 7, 3, 12);
const DAY = { from: "2021-08-03", to: "2021-08-04", bucket: "day" };

beforeAll(async () => {
  const column = await env.DB.prepare("SELECT 1 FROM pragma_table_info('usage_records') WHERE name = 'end_user'").first();
  if (!column) await env.DB.prepare("ALTER TABLE usage_records ADD COLUMN end_user TEXT").run();
});

/** Records of `accountId` for each end user (null: none named), written as the roll-up would, then tagged. */
async function endUserTraffic(accountId: string, users: (string | null)[], completion = 10): Promise<UsageRecord[]> {
  const records = users.map((_, i) => record(accountId, { created_at: NOON + i, completion_tokens: completion, prompt_tokens: 1 }));
  await rollUp(records);
  await env.DB.batch(records.map((r, i) => env.DB.prepare("UPDATE usage_records SET end_user = ? WHERE request_id = ?").bind(users[i], r.request_id)));
  return records;
}

describe("usage series: top end users", () => {
  it("ranks the account's end users by tokens, leaves out requests that named none, and keeps names as data", async () => {
    const { id } = await a.createAccount("Tutoring platform");
    await endUserTraffic(id, ["student-ada", "student-ada", "student-ada", "<b>bo</b>", null, null, null, null, "cy", "cy"]);
    const series = await adminAccountSeries(a, id, DAY);
    expect(series.top_end_users.map((u) => [u.end_user, u.requests, u.prompt_tokens + u.completion_tokens])).toEqual([
      ["student-ada", 3, 33],
      ["cy", 2, 22],
      ["<b>bo</b>", 1, 11],
    ]);
    expect(series.totals.requests).toBe(10);
  });

  it("holds the ten with the most tokens, and never another account's", async () => {
    const { id } = await a.createAccount("Many students");
    const other = await a.createAccount("Other platform");
    await endUserTraffic(id, Array.from({ length: 12 }, (_, i) => `student-${String(i).padStart(2, "0")}`));
    await endUserTraffic(id, ["student-11"], 500);
    await endUserTraffic(other.id, ["intruder"], 10_000);
    const series = await adminAccountSeries(a, id, DAY);
    expect(series.top_end_users).toHaveLength(10);
    expect(series.top_end_users[0]).toMatchObject({ end_user: "student-11", requests: 2 });
    expect(series.top_end_users.map((u) => u.end_user)).not.toContain("intruder");
  });
});
