/**
 * @module admin-cli
 * The operator CLI over the admin API: `npm run admin -- <command> [options]`.
 * Reads LIMO_API_URL (default http://127.0.0.1:8787) and ADMIN_TOKEN (falling
 * back to `.dev.vars` in the working directory). Prints aligned tables for
 * people, `--json` for scripts; exits 1 on an API error, 2 on a usage error.
 * Argument parsing and formatting are pure functions, tested in tests/node.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Account, ApiKey, CreatedApiKey, ListPage } from "../shared/admin";
import { formatMicroUsd, type UsageRecordList } from "../shared/usage";
import { runCheck } from "./check-answers";

export const USAGE = `Usage: npm run admin -- <command> [options] [--json] [--url URL]

  create-account --name NAME [--plan PLAN]
  list-accounts [--limit N] [--after CURSOR]
  get-account ACCOUNT_ID
  suspend ACCOUNT_ID
  reactivate ACCOUNT_ID
  set-limits ACCOUNT_ID [--rpm N] [--tpm N] [--concurrency N] [--monthly-tokens N]   (N or "none")
  set-end-user-limits ACCOUNT_ID [--user-rpm N] [--user-tokens-per-day N] [--user-concurrency N]
      [--require-end-user | --no-require-end-user]   limits each end user (safety_identifier, else user) gets
  create-key ACCOUNT_ID [--name NAME] [--test] [--expires-in 30d] [--model ID]... [--origin URL]...
  list-keys ACCOUNT_ID [--limit N] [--after CURSOR]
  revoke KEY_ID
  rotate KEY_ID [--grace 3s|10m|1h|1d]
  usage ACCOUNT_ID [--from T] [--to T] [--limit N] [--after CURSOR] [--csv]
      T: 2025-11-01, 2025-11-01T09:30:00Z or Unix seconds; from inclusive, to exclusive.
      --csv prints every record of the range as CSV (for invoicing) instead of a page.
  check REFERENCE CANDIDATE... [--extract]   the answer checker, run locally (no server, no key)

Environment: LIMO_API_URL (default http://127.0.0.1:8787), ADMIN_TOKEN (else read from .dev.vars).`;

export const DEFAULT_API_URL = "http://127.0.0.1:8787";

/** A mistake in the command line (exit code 2). */
export class UsageError extends Error {}

export interface CliRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  body?: Record<string, unknown>;
  /** How to print the answer for people (`csv`: as it came, whatever --json says). */
  view: "account" | "accounts" | "key" | "keys" | "usage" | "csv";
}

const OPTIONS = {
  name: { type: "string" },
  plan: { type: "string" },
  limit: { type: "string" },
  after: { type: "string" },
  rpm: { type: "string" },
  tpm: { type: "string" },
  concurrency: { type: "string" },
  "monthly-tokens": { type: "string" },
  "user-rpm": { type: "string" },
  "user-tokens-per-day": { type: "string" },
  "user-concurrency": { type: "string" },
  "require-end-user": { type: "boolean" },
  "no-require-end-user": { type: "boolean" },
  test: { type: "boolean" },
  "expires-in": { type: "string" },
  model: { type: "string", multiple: true },
  origin: { type: "string", multiple: true },
  grace: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  csv: { type: "boolean" },
  json: { type: "boolean" },
  url: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export interface ParsedCli {
  request: CliRequest | null;
  json: boolean;
  url: string | undefined;
}

/** Parses argv (without node and the script) into the API call to make; `request` is null for --help. */
export function parseCli(argv: readonly string[], now = Date.now()): ParsedCli {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  const base = { json: values.json ?? false, url: values.url };
  if (values.help || !command) return { ...base, request: null };
  const id = (what: string): string => {
    const value = rest[0];
    if (!value) throw new UsageError(`${command} needs ${what}`);
    return encodeURIComponent(value);
  };
  const page = (): string => {
    const query = new URLSearchParams();
    if (values.limit) query.set("limit", values.limit);
    if (values.after) query.set("after", values.after);
    return query.size ? `?${query}` : "";
  };
  switch (command) {
    case "create-account":
      if (!values.name) throw new UsageError("create-account needs --name");
      return { ...base, request: { method: "POST", path: "/accounts", body: compact({ name: values.name, plan: values.plan }), view: "account" } };
    case "list-accounts":
      return { ...base, request: { method: "GET", path: `/accounts${page()}`, view: "accounts" } };
    case "get-account":
      return { ...base, request: { method: "GET", path: `/accounts/${id("ACCOUNT_ID")}`, view: "account" } };
    case "suspend":
    case "reactivate": {
      const status = command === "suspend" ? "suspended" : "active";
      return { ...base, request: { method: "PATCH", path: `/accounts/${id("ACCOUNT_ID")}`, body: { status }, view: "account" } };
    }
    case "set-limits": {
      const limits = compact({
        requests_per_minute: limitValue("--rpm", values.rpm),
        tokens_per_minute: limitValue("--tpm", values.tpm),
        max_concurrent_requests: limitValue("--concurrency", values.concurrency),
        monthly_token_quota: limitValue("--monthly-tokens", values["monthly-tokens"]),
      });
      if (Object.keys(limits).length === 0) throw new UsageError("set-limits needs at least one of --rpm, --tpm, --concurrency, --monthly-tokens");
      return { ...base, request: { method: "PATCH", path: `/accounts/${id("ACCOUNT_ID")}`, body: { limits }, view: "account" } };
    }
    case "set-end-user-limits": {
      const limits = compact({
        requests_per_minute: limitValue("--user-rpm", values["user-rpm"]),
        tokens_per_day: limitValue("--user-tokens-per-day", values["user-tokens-per-day"]),
        max_concurrent_requests: limitValue("--user-concurrency", values["user-concurrency"]),
      });
      if (values["require-end-user"] && values["no-require-end-user"]) throw new UsageError("--require-end-user and --no-require-end-user contradict each other");
      const require = values["require-end-user"] ? true : values["no-require-end-user"] ? false : undefined;
      if (Object.keys(limits).length === 0 && require === undefined) {
        throw new UsageError("set-end-user-limits needs at least one of --user-rpm, --user-tokens-per-day, --user-concurrency, --require-end-user, --no-require-end-user");
      }
      const body = compact({ end_user_limits: Object.keys(limits).length ? limits : undefined, require_end_user: require });
      return { ...base, request: { method: "PATCH", path: `/accounts/${id("ACCOUNT_ID")}`, body, view: "account" } };
    }
    case "create-key": {
      const path = `/accounts/${id("ACCOUNT_ID")}/keys`;
      const expiresIn = values["expires-in"];
      const body = compact({
        name: values.name,
        mode: values.test ? "test" : undefined,
        expires_at: expiresIn === undefined ? undefined : Math.floor(now / 1000) + parseDurationSeconds(expiresIn),
        models: values.model,
        origins: values.origin,
      });
      return { ...base, request: { method: "POST", path, body, view: "key" } };
    }
    case "list-keys":
      return { ...base, request: { method: "GET", path: `/accounts/${id("ACCOUNT_ID")}/keys${page()}`, view: "keys" } };
    case "revoke":
      return { ...base, request: { method: "DELETE", path: `/keys/${id("KEY_ID")}`, view: "key" } };
    case "rotate": {
      const body = values.grace === undefined ? {} : { grace_seconds: parseDurationSeconds(values.grace) };
      return { ...base, request: { method: "POST", path: `/keys/${id("KEY_ID")}/rotate`, body, view: "key" } };
    }
    case "usage": {
      const path = `/accounts/${id("ACCOUNT_ID")}/usage`;
      const query = new URLSearchParams(compact({ from: values.from, to: values.to }) as Record<string, string>);
      if (values.csv) {
        if (values.limit || values.after) throw new UsageError("usage --csv exports the whole range: drop --limit and --after");
        query.set("format", "csv");
        return { ...base, request: { method: "GET", path: `${path}?${query}`, view: "csv" } };
      }
      const paging = page();
      const qs = [query.toString(), paging.slice(1)].filter(Boolean).join("&");
      return { ...base, request: { method: "GET", path: qs ? `${path}?${qs}` : path, view: "usage" } };
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/** `3s`, `10m`, `1h`, `30d`, or plain seconds. */
export function parseDurationSeconds(text: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) throw new UsageError(`'${text}' is not a duration (e.g. 30s, 10m, 1h, 30d)`);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

function limitValue(flag: string, text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined;
  if (text === "none" || text === "null") return null;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} takes a positive integer or "none"`);
  return Number(text);
}

function compact(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

/** Left-aligned columns separated by two spaces, with a header row. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** Unix seconds as `2026-11-25 09:40:12Z`, or `-`. */
export function formatTime(seconds: number | null | undefined): string {
  if (seconds == null) return "-";
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z");
}

/** What a person sees for an answer (the secret of a created key on its own line). */
export function formatAnswer(view: CliRequest["view"], body: unknown): string {
  if (view === "csv") return String(body);
  if (view === "usage") return formatUsage(body as UsageRecordList);
  if (view === "account" || view === "accounts") {
    const accounts = view === "account" ? [body as Account] : (body as ListPage<Account>).data;
    const table = formatTable(
      ["ID", "NAME", "PLAN", "STATUS", "CREATED", "LIMITS", "PER END USER"],
      accounts.map((a) => [a.id, a.name, a.plan, a.status, formatTime(a.created_at), formatLimits(a.limits), formatEndUserLimits(a)]),
    );
    return table + more(body);
  }
  const keys = view === "key" ? [body as ApiKey] : (body as ListPage<ApiKey>).data;
  const table = formatTable(
    ["ID", "NAME", "MODE", "STATUS", "PREFIX", "CREATED", "LAST USED", "EXPIRES", "REVOKED"],
    keys.map((k) => [k.id, k.name ?? "-", k.mode, k.status, k.prefix, formatTime(k.created_at), formatTime(k.last_used_at), formatTime(k.expires_at), formatTime(k.revoked_at)]),
  );
  const secret = view === "key" ? (body as Partial<CreatedApiKey>).key : undefined;
  return table + more(body) + (secret ? `\n\nSecret (shown only now, store it safely):\n${secret}` : "");
}

/** Unix milliseconds as `2026-11-25 09:40:12.345Z`. */
export function formatTimeMs(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ");
}

/** A page of usage records, newest first, then the range's totals. */
export function formatUsage(list: UsageRecordList): string {
  const table = formatTable(
    ["CREATED", "REQUEST", "KEY", "MODEL", "MODE", "STATUS", "PROMPT", "COMPLETION", "TTFT MS", "MS", "COST USD"],
    list.data.map((r) => [
      formatTimeMs(r.created_at), r.request_id, r.key_id, r.model, r.mode, r.cached ? `${r.status} (cached)` : r.status,
      String(r.prompt_tokens), String(r.completion_tokens), r.ttft_ms === null ? "-" : String(r.ttft_ms), String(r.duration_ms),
      formatMicroUsd(r.cost_micro_usd),
    ]),
  );
  const t = list.totals;
  const totals = `Totals over the range: ${t.requests} requests, ${t.prompt_tokens} prompt + ${t.completion_tokens} completion tokens, $${formatMicroUsd(t.cost_micro_usd)}`;
  return `${table}${more(list)}\n\n${totals}`;
}

function formatLimits(limits: Account["limits"]): string {
  const set = Object.entries(limits).filter(([, v]) => v !== null);
  return set.length ? set.map(([k, v]) => `${k}=${v}`).join(",") : "-";
}

/** The per-end-user limits, and `required` when a request must name its end user. */
function formatEndUserLimits(account: Partial<Pick<Account, "end_user_limits" | "require_end_user">>): string {
  const set = Object.entries(account.end_user_limits ?? {}).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`);
  if (account.require_end_user) set.push("required");
  return set.length ? set.join(",") : "-";
}

function more(body: unknown): string {
  const page = body as Partial<ListPage<unknown>>;
  return page.has_more && page.next_cursor ? `\n(more: --after ${page.next_cursor})` : "";
}

/** ADMIN_TOKEN from a `.dev.vars` text (KEY=VALUE lines, optional quotes). */
export function tokenFromDevVars(text: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*ADMIN_TOKEN\s*=\s*(.*?)\s*$/.exec(line);
    if (match) return match[1]!.replace(/^(["'])(.*)\1$/, "$2") || undefined;
  }
  return undefined;
}

function adminToken(): string {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  try {
    const token = tokenFromDevVars(readFileSync(".dev.vars", "utf8"));
    if (token) return token;
  } catch {
    // No .dev.vars: fall through to the usage error.
  }
  throw new UsageError("set ADMIN_TOKEN (or run from a directory whose .dev.vars has it)");
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed: ParsedCli;
  try {
    if (argv[0] === "check") return await runCheck(argv.slice(1));
    parsed = parseCli(argv);
    if (!parsed.request) {
      console.log(USAGE);
      return 0;
    }
    const { request } = parsed;
    const base = (parsed.url ?? process.env.LIMO_API_URL ?? DEFAULT_API_URL).replace(/\/$/, "");
    const response = await fetch(`${base}/admin/v1${request.path}`, {
      method: request.method,
      headers: { authorization: `Bearer ${adminToken()}`, ...(request.body ? { "content-type": "application/json" } : {}) },
      body: request.body ? JSON.stringify(request.body) : undefined,
    });
    const text = await response.text();
    if (response.ok && request.view === "csv") {
      process.stdout.write(text);
      return 0;
    }
    const body: unknown = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = (body as { error?: { message?: string; code?: string } } | null)?.error;
      console.error(`error: ${error?.message ?? text} (${error?.code ?? "unknown"}, HTTP ${response.status})`);
      return 1;
    }
    console.log(parsed.json ? JSON.stringify(body, null, 2) : formatAnswer(request.view, body));
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
