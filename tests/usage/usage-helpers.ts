/**
 * @module usage-helpers
 * What the usage tests share: synthetic ledger records written straight to
 * D1 through the roll-up's own writer, the usage APIs' calls, and a strict
 * RFC 4180 parser to read CSV exports back.
 */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { UsageRecord, UsageRecordList, UsageSummary } from "../../shared/usage";
import { writeUsageRecords } from "../../worker/accounts/ledger/usage-db";
import type { AdminApi } from "../helpers/admin";

let seq = 0;

/** A plausible record of `accountId` (unique request id), overridable field by field. */
export function record(accountId: string, extra: Partial<UsageRecord> = {}): UsageRecord {
  seq++;
  return {
    request_id: `req_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}${String(seq).padStart(4, "0")}`,
    account_id: accountId,
    key_id: "key_synthetic",
    end_user: null,
    endpoint: "chat.completions",
    model: "limo",
    backend: "sim",
    mode: "live",
    prompt_tokens: 10 + (seq % 7),
    completion_tokens: 20 + (seq % 11),
    cached: false,
    status: "ok",
    ttft_ms: 12,
    duration_ms: 340,
    cost_micro_usd: 45 + (seq % 5),
    created_at: Date.UTC(2025, 10, 3, 12, 0, 0),
    ...extra,
  };
}

/** Writes records to D1 as the account object's roll-up does, in batches of its size. */
export async function rollUp(records: readonly UsageRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 100) await writeUsageRecords(env.DB, records.slice(i, i + 100));
}

/** GET /admin/v1/accounts/{id}/usage?query as JSON, asserting a 200. */
export async function usagePage(a: AdminApi, accountId: string, query: Record<string, string | number> = {}): Promise<UsageRecordList> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const res = await a.admin("GET", `/accounts/${accountId}/usage${qs.size ? `?${qs}` : ""}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as UsageRecordList;
}

/** Follows `next_cursor` to the end; returns every record in order and the number of pages. */
export async function allPages(a: AdminApi, accountId: string, query: Record<string, string | number> = {}): Promise<{ records: UsageRecord[]; pages: number }> {
  const records: UsageRecord[] = [];
  let after: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await usagePage(a, accountId, after === undefined ? query : { ...query, after });
    records.push(...page.data);
    if (!page.has_more) {
      expect(page.next_cursor).toBeUndefined();
      return { records, pages };
    }
    expect(page.next_cursor).toBeTypeOf("string");
    after = page.next_cursor;
  }
}

/** GET /v1/usage with `key`, asserting a 200. */
export async function usageSummary(a: AdminApi, key: string, query = ""): Promise<UsageSummary> {
  const res = await a.withKey(key, `/v1/usage${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as UsageSummary;
}

/** RFC 4180: rows of fields; quoted fields may hold commas, doubled quotes and line breaks. Throws on malformed input. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (ch === '"') {
        quoted = false;
        i++;
        if (i < text.length && text[i] !== "," && text[i] !== "\r") throw new Error(`text after a closing quote at ${i}`);
      } else {
        field += ch;
        i++;
      }
    } else if (ch === '"') {
      if (field !== "") throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (ch === ",") {
      row.push(field);
      field = "";
      i++;
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += 2;
    } else if (ch === "\n" || ch === "\r") {
      throw new Error(`bare line break at ${i}: lines must end with CRLF`);
    } else {
      field += ch;
      i++;
    }
  }
  if (quoted) throw new Error("unterminated quoted field");
  if (field !== "" || row.length > 0) throw new Error("the last line does not end with CRLF");
  return rows;
}

/** CSV rows as objects keyed by the header row. */
export function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new Error("no header row");
  return rows.map((cells) => {
    expect(cells).toHaveLength(header.length);
    return Object.fromEntries(header.map((name, i) => [name, cells[i]!]));
  });
}
