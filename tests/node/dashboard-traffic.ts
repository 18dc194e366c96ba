/**
 * @module dashboard-traffic
 * Real traffic for the dashboard's browser tests: two fresh accounts (one
 * with a hostile name), live keys, and requests of every kind the plots
 * separate (streaming or not, two end users, a backend failure mid-stream)
 * sent through the running dev stack, then rolled up into D1 by reading the
 * usage API, as the page will.
 */
import type { Account, CreatedApiKey } from "../../shared/admin";
import type { UsageRecord, UsageRecordList } from "../../shared/usage";
import { adminClient, devAdminToken, type AdminCall, type DevStack } from "./dev-stack";

/** A name that would run script if any part of the page parsed it as HTML. */
export const HOSTILE_NAME = "<img src=x onerror=alert(1)>";

export interface DashboardFixture {
  adminToken: string;
  admin: AdminCall;
  /** The hostile-named account: most of the traffic, two end users, one backend failure. */
  hostile: { account: Account; key: string };
  /** A second account the key holder must never see. */
  other: { account: Account; key: string };
}

async function accountWithKey(admin: AdminCall, name: string): Promise<{ account: Account; key: string }> {
  const account = await admin<Account>("POST", "/accounts", { name, plan: "standard" });
  const { key } = await admin<CreatedApiKey>("POST", `/accounts/${account.id}/keys`, { name: "dashboard test" });
  return { account, key };
}

async function chat(stack: DevStack, key: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${stack.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "limo", messages: [{ role: "user", content: "What is 17 * 23?" }], max_tokens: 64, ...body }),
  });
  // Read to the end: a stream's record is written when it ends.
  await res.text();
  if (res.status !== 200) throw new Error(`chat answered ${res.status}`);
}

async function simConfig(stack: DevStack, config: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${stack.simUrl}/sim/config`, { method: "POST", body: JSON.stringify(config) });
  if (!res.ok) throw new Error(`sim config answered ${res.status}`);
}

/** Every usage record of an account (the admin usage API, which also rolls the ledger up into D1 first). */
export async function usageRecords(admin: AdminCall, accountId: string, from?: number, to?: number): Promise<UsageRecord[]> {
  const records: UsageRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: "1000" });
    if (from !== undefined) query.set("from", String(Math.floor(from / 1000)));
    if (to !== undefined) query.set("to", String(Math.ceil(to / 1000)));
    if (after) query.set("after", after);
    const page = await admin<UsageRecordList>("GET", `/accounts/${accountId}/usage?${query}`);
    records.push(...page.data);
    if (!page.has_more || !page.next_cursor) return records;
    after = page.next_cursor;
  }
}

/** Creates the accounts and sends the traffic; returns once every record is in D1. */
export async function sendDashboardTraffic(stack: DevStack): Promise<DashboardFixture> {
  const adminToken = devAdminToken();
  const admin = adminClient(stack.url, adminToken);
  const hostile = await accountWithKey(admin, HOSTILE_NAME);
  // The dev stack's D1 outlives a run: a name of this run's own finds this run's account.
  const other = await accountWithKey(admin, `Tutor Co ${crypto.randomUUID().slice(0, 8)}`);
  for (const user of ["student-ada", "student-ada", "student-bo"]) await chat(stack, hostile.key, { user });
  await chat(stack, hostile.key, { stream: true, stream_options: { include_usage: true }, user: "student-bo" });
  await chat(stack, hostile.key, { model: "limo-v2" });
  await simConfig(stack, { error_after_tokens: 3 });
  try {
    await chat(stack, hostile.key, { stream: true });
  } finally {
    await simConfig(stack, { error_after_tokens: null });
  }
  await chat(stack, other.key, {});
  await chat(stack, other.key, { stream: true });
  // The usage API rolls each account's ledger up into D1 before it answers: the overview reads D1 as it is.
  if ((await usageRecords(admin, hostile.account.id)).length !== 6) throw new Error("the hostile account's 6 records are not all in D1");
  if ((await usageRecords(admin, other.account.id)).length !== 2) throw new Error("the other account's 2 records are not all in D1");
  return { adminToken, admin, hostile, other };
}
