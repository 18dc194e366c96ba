/**
 * @module usage-report-service
 * The usage APIs' service. Before reading D1 it asks the account's object to
 * copy its pending ledger entries there (best effort, bounded), so a request
 * that just ended is in the answer. Then it reads pages, totals and daily
 * summaries (usage-db), and renders CSV for invoicing. Parsing the
 * query (instants, days, cursors) is pure and lives here too.
 */
import {
  DEFAULT_USAGE_PAGE_LIMIT,
  MAX_USAGE_CSV_ROWS,
  MAX_USAGE_SUMMARY_DAYS,
  formatMicroUsd,
  type AccountUsageQuery,
  type UsageRecord,
  type UsageRecordList,
  type UsageSummary,
  type UsageSummaryQuery,
} from "../../../shared/usage";
import { accountObject } from "../account-rpc";
import type { Env } from "../../env";
import { ApiError } from "../../core/errors";
import { log } from "../../core/log";
import { requireAccountRow } from "../accounts-db";
import { dailyUsage, dayOf, dayStartMs, pageUsageRecords, usageTotals, type UsageCursor, type UsageRange } from "./usage-db";

type UsageEnv = Pick<Env, "DB" | "ACCOUNTS">;

const DAY_MS = 86_400_000;
/** Latest instant we accept: 9999-12-31T23:59:59Z, in Unix seconds (larger numbers are milliseconds by mistake). */
const MAX_UNIX_SECONDS = 253_402_300_799;
/**
 * How long a usage answer waits for the account object's roll-up, in ms. Past
 * it we answer from D1 as it is; the roll-up goes on (an RPC cannot be cancelled).
 */
const FLUSH_TIMEOUT_MS = 5_000;
/** Records per D1 read while streaming a CSV export. */
const CSV_PAGE_ROWS = 1_000;

// ---- Query parsing (pure) ----

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO 8601 date (UTC midnight), date-time (no offset means UTC) or Unix
 * seconds, as Unix milliseconds; anything else, or a time outside 1970–9999,
 * is a 400 naming `param`.
 */
export function parseInstant(text: string, param: string): number {
  const invalid = () =>
    new ApiError(
      "invalid_value",
      `Invalid value for '${param}': expected an ISO 8601 date or date-time (2025-11-01, 2025-11-01T09:30:00Z) or Unix seconds, between 1970 and 9999.`,
      { param },
    );
  if (/^\d{1,15}$/.test(text)) {
    const seconds = Number(text);
    if (seconds > MAX_UNIX_SECONDS) throw invalid();
    return seconds * 1000;
  }
  const m = ISO_INSTANT.exec(text);
  if (!m) throw invalid();
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part)));
  const millis = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  if (year! < 1970 || hour > 23 || minute > 59 || second > 59) throw invalid();
  const date = new Date(0);
  date.setUTCFullYear(year!, month! - 1, day!);
  date.setUTCHours(hour, minute, second, millis);
  // Date rolls 2025-02-30 over to March: a date that does not round-trip does not exist.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day) throw invalid();
  const ms = date.getTime() - offsetMinutes(m[8]) * 60_000;
  if (!(ms >= 0 && ms <= MAX_UNIX_SECONDS * 1000)) throw invalid();
  return ms;
}

/** The UTC offset in minutes east (NaN when out of range, which the caller refuses). */
function offsetMinutes(offset: string | undefined): number {
  if (!offset || offset.toUpperCase() === "Z") return 0;
  const digits = offset.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2));
  if (hours > 23 || minutes > 59) return Number.NaN;
  return (offset[0] === "-" ? -1 : 1) * (hours * 60 + minutes);
}

/** The admin query's range: `from` inclusive, `to` exclusive, `to` later than `from`. */
export function parseRange(query: { from?: string; to?: string; end_user?: string }): UsageRange {
  const range: UsageRange = {};
  if (query.end_user !== undefined) range.endUser = query.end_user;
  if (query.from !== undefined) range.from = parseInstant(query.from, "from");
  if (query.to !== undefined) range.to = parseInstant(query.to, "to");
  if (range.from !== undefined && range.to !== undefined && range.to <= range.from) {
    throw new ApiError("invalid_value", "Invalid value for 'to': it must be later than 'from' (the range is from ≤ t < to).", { param: "to" });
  }
  return range;
}

const encoder = new TextEncoder();

function toBase64Url(text: string): string {
  let binary = "";
  for (const byte of encoder.encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The cursor after `record`: base64url of `<created_at>.<request_id>`. Opaque to clients. */
export function encodeCursor(record: Pick<UsageRecord, "created_at" | "request_id">): string {
  return toBase64Url(`${record.created_at}.${record.request_id}`);
}

/** The inverse of encodeCursor; anything it did not make is a 400 naming `after`. */
export function decodeCursor(cursor: string): UsageCursor {
  const invalid = new ApiError("invalid_value", "Invalid value for 'after': pass the `next_cursor` of a previous page, unchanged.", { param: "after" });
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid;
  let text: string;
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
  } catch {
    throw invalid;
  }
  const m = /^(\d{1,16})\.([\x21-\x7e]{1,128})$/.exec(text);
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw invalid;
  return { createdAt: Number(m[1]), requestId: m[2]! };
}

/** `from`/`to` of GET /v1/usage: inclusive UTC days, by default the current month, at most a year. */
export function summaryDays(query: UsageSummaryQuery, now: number): { from: string; to: string } {
  const today = dayOf(now);
  const monthEnd = dayOf(Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)), 0));
  const to = query.to ?? monthEnd;
  const from = query.from ?? `${to.slice(0, 8)}01`;
  if (from > to) throw new ApiError("invalid_value", `Invalid value for 'from': ${from} is after 'to' (${to}).`, { param: "from" });
  const days = (dayStartMs(to) - dayStartMs(from)) / DAY_MS + 1;
  if (days > MAX_USAGE_SUMMARY_DAYS) {
    throw new ApiError("invalid_value", `Invalid value for 'from': the range is ${days} days; at most ${MAX_USAGE_SUMMARY_DAYS} are allowed.`, { param: "from" });
  }
  return { from, to };
}

// ---- CSV (pure) ----

export const CSV_COLUMNS = [
  "request_id", "created_at", "account_id", "key_id", "model", "backend", "mode", "status", "cached",
  "prompt_tokens", "completion_tokens", "ttft_ms", "duration_ms", "cost_micro_usd", "cost_usd", "end_user", "endpoint",
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
 * A text field starting like a formula (= + - @) gets a leading `'` so a
 * spreadsheet shows it instead of running it; ours are ids we generate, so
 * this is only a guard.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record as a CSV line (CRLF-terminated), in CSV_COLUMNS order. */
export function csvRow(r: UsageRecord): string {
  const cells = [
    r.request_id, new Date(r.created_at).toISOString(), r.account_id, r.key_id, r.model, r.backend, r.mode, r.status, r.cached,
    r.prompt_tokens, r.completion_tokens, r.ttft_ms, r.duration_ms, r.cost_micro_usd, formatMicroUsd(r.cost_micro_usd), r.end_user ?? null, r.endpoint ?? null,
  ];
  return `${cells.map(csvField).join(",")}\r\n`;
}

export const CSV_HEADER = `${CSV_COLUMNS.join(",")}\r\n`;

/** `usage-<account>-<from>-<to>.csv`: days when the bounds are midnights, else `YYYY-MM-DDTHHMMSSZ` (no colons: Windows). */
export function csvFilename(accountId: string, range: { from?: number; to: number }): string {
  const label = (ms: number) => {
    const iso = new Date(ms).toISOString();
    return ms % DAY_MS === 0 ? iso.slice(0, 10) : `${iso.slice(0, 10)}T${iso.slice(11, 19).replaceAll(":", "")}Z`;
  };
  const safeId = accountId.replace(/[^A-Za-z0-9_-]/g, "_");
  return `usage-${safeId}-${range.from === undefined ? "start" : label(range.from)}-${label(range.to)}.csv`;
}

// ---- Service ----

/**
 * Runs `flush` (the account object's roll-up), but never fails the answer:
 * on an error or after `timeoutMs` the caller reads D1 as it is.
 */
export async function flushBestEffort(flush: () => Promise<void>, accountId: string, timeoutMs = FLUSH_TIMEOUT_MS): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    const outcome = await Promise.race([flush().then(() => "done" as const), timeout]);
    if (outcome === "timeout") log("warn", "usage flush is slow; answering from D1 as it is", { accountId, timeoutMs });
  } catch (err) {
    log("warn", "usage flush failed; answering from D1 as it is", { accountId, error: String(err) });
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

/** Copies the account object's pending ledger entries into D1 (best effort, bounded) before a usage answer is read. */
export function flushAccount(env: UsageEnv, accountId: string): Promise<void> {
  return flushBestEffort(() => accountObject(env, accountId).flushUsage(), accountId);
}

/** `GET /admin/v1/accounts/{id}/usage` as JSON: a page of records and the range's totals. */
export async function accountUsagePage(env: UsageEnv, accountId: string, query: AccountUsageQuery): Promise<UsageRecordList> {
  const range = parseRange(query);
  const after = query.after === undefined ? undefined : decodeCursor(query.after);
  await requireAccountRow(env.DB, accountId);
  await flushAccount(env, accountId);
  const [page, totals] = await Promise.all([
    pageUsageRecords(env.DB, accountId, range, { limit: query.limit ?? DEFAULT_USAGE_PAGE_LIMIT, after }),
    usageTotals(env.DB, accountId, range),
  ]);
  const last = page.records.at(-1);
  const list: UsageRecordList = { object: "list", data: page.records, has_more: page.hasMore, totals };
  if (page.hasMore && last) list.next_cursor = encodeCursor(last);
  return list;
}

/**
 * `GET /admin/v1/accounts/{id}/usage?format=csv`: every record of the range,
 * newest first, streamed page by page. `to` defaults to now, so the file name
 * says what it holds. A range of more than `maxRows` records is a 400.
 */
export async function accountUsageCsv(
  env: UsageEnv,
  accountId: string,
  query: AccountUsageQuery,
  options: { now?: number; maxRows?: number } = {},
): Promise<{ body: ReadableStream<Uint8Array>; filename: string }> {
  const { now = Date.now(), maxRows = MAX_USAGE_CSV_ROWS } = options;
  if (query.after !== undefined) throw new ApiError("invalid_value", "Invalid value for 'after': a CSV export is never paged.", { param: "after" });
  const parsed = parseRange(query);
  const range = { from: parsed.from, to: parsed.to ?? now, endUser: parsed.endUser };
  if (range.from !== undefined && range.to <= range.from) {
    throw new ApiError("invalid_value", "Invalid value for 'from': it is not before now.", { param: "from" });
  }
  const account = await requireAccountRow(env.DB, accountId);
  await flushAccount(env, accountId);
  const { requests } = await usageTotals(env.DB, accountId, range);
  if (requests > maxRows) {
    throw new ApiError(
      "invalid_value",
      `Invalid value for 'from': the range holds ${requests} records; one CSV export holds at most ${maxRows}. Narrow 'from' and 'to'.`,
      { param: "from" },
    );
  }
  return { body: csvStream(env.DB, accountId, range, maxRows), filename: csvFilename(account.id, range) };
}

function csvStream(db: D1Database, accountId: string, range: UsageRange, maxRows: number): ReadableStream<Uint8Array> {
  let after: UsageCursor | undefined;
  let written = 0;
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(CSV_HEADER));
        return;
      }
      try {
        const limit = Math.min(CSV_PAGE_ROWS, maxRows - written);
        const page = limit > 0 ? await pageUsageRecords(db, accountId, range, { limit, after }) : { records: [], hasMore: false };
        if (page.records.length > 0) controller.enqueue(encoder.encode(page.records.map(csvRow).join("")));
        written += page.records.length;
        const last = page.records.at(-1);
        if (!page.hasMore || !last) return controller.close();
        after = { createdAt: last.created_at, requestId: last.request_id };
      } catch (err) {
        // Headers are gone: a broken stream, never a file that looks complete.
        log("error", "usage CSV export failed mid-stream", { accountId, error: String(err) });
        controller.error(err);
      }
    },
  });
}

/** `GET /v1/usage`: the account's totals by day and model. */
export async function accountUsageSummary(env: UsageEnv, accountId: string, query: UsageSummaryQuery, now = Date.now()): Promise<UsageSummary> {
  const { from, to } = summaryDays(query, now);
  await flushAccount(env, accountId);
  const data = await dailyUsage(env.DB, accountId, from, to);
  const totals = { requests: 0, prompt_tokens: 0, completion_tokens: 0, cached_requests: 0, cost_micro_usd: 0 };
  for (const row of data) {
    totals.requests += row.requests;
    totals.prompt_tokens += row.prompt_tokens;
    totals.completion_tokens += row.completion_tokens;
    totals.cached_requests += row.cached_requests;
    totals.cost_micro_usd += row.cost_micro_usd;
  }
  return { object: "usage", account_id: accountId, from, to, data, totals };
}
