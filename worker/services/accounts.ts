/**
 * @module accounts
 * Admin operations on accounts. Each write goes to D1 (the source of truth)
 * and to the account's Durable Object (what the hot path reads) in the same
 * call, ordered so that a failure between the two can only leave the account
 * more restricted than asked: restrictive changes reach the object first,
 * permissive ones reach D1 first.
 */
import {
  DEFAULT_PAGE_LIMIT,
  LIMIT_NAMES,
  type Account,
  type CreateAccountRequest,
  type Limits,
  type ListPage,
  type ListQuery,
  type UpdateAccountRequest,
} from "../../shared/admin";
import type { Env } from "../env";
import { accountObject } from "../durable-objects/account-do";
import {
  DEFAULT_PLAN,
  insertAccount,
  pageRows,
  parseLimits,
  requireAccountRow,
  toAccount,
  toAccountState,
  updateAccountRow,
  type AccountRow,
} from "./accounts-db";
import { newAccountId } from "./keys-format";

type AdminEnv = Pick<Env, "DB" | "ACCOUNTS">;

const NO_LIMITS: Limits = { requests_per_minute: null, tokens_per_minute: null, max_concurrent_requests: null, monthly_token_quota: null };

export async function createAccount(env: AdminEnv, input: CreateAccountRequest, now = Date.now()): Promise<Account> {
  const row: AccountRow = {
    id: newAccountId(),
    name: input.name,
    plan: input.plan ?? DEFAULT_PLAN,
    status: "active",
    limits: JSON.stringify(NO_LIMITS),
    created_at: now,
    updated_at: now,
  };
  // Permissive: D1 first; the object then loads the account from D1.
  await insertAccount(env.DB, row);
  await accountObject(env, row.id).sync(row.id);
  return toAccount(row);
}

export async function getAccount(env: AdminEnv, id: string): Promise<Account> {
  return toAccount(await requireAccountRow(env.DB, id));
}

export async function listAccounts(env: AdminEnv, query: ListQuery): Promise<ListPage<Account>> {
  const page = await pageRows<AccountRow>(env.DB, "accounts", { limit: query.limit ?? DEFAULT_PAGE_LIMIT, after: query.after });
  return toListPage(page.rows.map(toAccount), page.hasMore);
}

export async function updateAccount(env: AdminEnv, id: string, patch: UpdateAccountRequest, now = Date.now()): Promise<Account> {
  const current = await requireAccountRow(env.DB, id);
  const currentLimits = parseLimits(current.limits);
  const limits = { ...currentLimits };
  for (const name of LIMIT_NAMES) {
    const value = patch.limits?.[name];
    if (value !== undefined) limits[name] = value;
  }
  const next: AccountRow = {
    ...current,
    name: patch.name ?? current.name,
    plan: patch.plan ?? current.plan,
    status: patch.status ?? current.status,
    limits: JSON.stringify(limits),
    updated_at: now,
  };
  const account = accountObject(env, id);
  if (isRestrictive(current.status, next.status, currentLimits, limits)) {
    await account.putAccount(toAccountState(next));
    await updateAccountRow(env.DB, next);
  } else {
    await updateAccountRow(env.DB, next);
    await account.putAccount(toAccountState(next));
  }
  return toAccount(next);
}

/** A suspension, or any limit added or lowered: such a change must reach the hot path first. */
export function isRestrictive(statusBefore: string, statusAfter: string, before: Limits, after: Limits): boolean {
  if (statusAfter === "suspended" && statusBefore !== "suspended") return true;
  return LIMIT_NAMES.some((name) => {
    const was = before[name];
    const now = after[name];
    return now !== null && (was === null || now < was);
  });
}

export function toListPage<T extends { id: string }>(data: T[], hasMore: boolean): ListPage<T> {
  const last = data[data.length - 1];
  return hasMore && last ? { object: "list", data, has_more: true, next_cursor: last.id } : { object: "list", data, has_more: false };
}
