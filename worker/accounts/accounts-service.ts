/**
 * @module accounts-service
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
  type AccountListQuery,
  type UpdateAccountRequest,
} from "../../shared/admin";
import { END_USER_LIMIT_NAMES, parseEndUserSettings, serializeEndUserSettings } from "../../shared/end-users";
import { effectiveEndUserLimits, effectiveLimits, isKnownPlan, PLANS, type LimitOverrides } from "../../shared/plans";
import type { Env } from "../env";
import { ApiError } from "../core/errors";
import { accountObject } from "./account-rpc";
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
import { newAccountId } from "./keys/key-format";

type AdminEnv = Pick<Env, "DB" | "ACCOUNTS">;

/** A plan must be one of shared/plans.ts: an unknown one would silently mean the default. */
function assertKnownPlan(plan: string): void {
  if (!isKnownPlan(plan)) {
    throw new ApiError("invalid_value", `Unknown plan '${plan}'. Plans: ${Object.keys(PLANS).join(", ")}.`, { param: "plan" });
  }
}

export async function createAccount(env: AdminEnv, input: CreateAccountRequest, now = Date.now()): Promise<Account> {
  if (input.plan !== undefined) assertKnownPlan(input.plan);
  const row: AccountRow = {
    id: newAccountId(),
    name: input.name,
    plan: input.plan ?? DEFAULT_PLAN,
    status: "active",
    limits: "{}",
    end_user_settings: "{}",
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

export async function listAccounts(env: AdminEnv, query: AccountListQuery): Promise<ListPage<Account>> {
  const page = await pageRows<AccountRow>(env.DB, "accounts", { limit: query.limit ?? DEFAULT_PAGE_LIMIT, after: query.after, search: query.q });
  return toListPage(page.rows.map(toAccount), page.hasMore);
}

export async function updateAccount(env: AdminEnv, id: string, patch: UpdateAccountRequest, now = Date.now()): Promise<Account> {
  const current = await requireAccountRow(env.DB, id);
  if (patch.plan !== undefined) assertKnownPlan(patch.plan);
  const overrides: LimitOverrides = { ...parseLimits(current.limits) };
  for (const name of LIMIT_NAMES) {
    const value = patch.limits?.[name];
    if (value !== undefined) overrides[name] = value;
  }
  const endUsersBefore = parseEndUserSettings(current.end_user_settings);
  const endUsers = { limits: { ...endUsersBefore.limits }, requireEndUser: patch.require_end_user ?? endUsersBefore.requireEndUser };
  for (const name of END_USER_LIMIT_NAMES) {
    const value = patch.end_user_limits?.[name];
    if (value !== undefined) endUsers.limits[name] = value;
  }
  const next: AccountRow = {
    ...current,
    end_user_settings: serializeEndUserSettings(endUsers),
    name: patch.name ?? current.name,
    plan: patch.plan ?? current.plan,
    status: patch.status ?? current.status,
    limits: JSON.stringify(overrides),
    updated_at: now,
  };
  const account = accountObject(env, id);
  const before = effectiveLimits(current.plan, parseLimits(current.limits));
  const after = effectiveLimits(next.plan, overrides);
  const endUsersTighter =
    (endUsers.requireEndUser && !endUsersBefore.requireEndUser) ||
    isTighter(effectiveEndUserLimits(current.plan, endUsersBefore.limits), effectiveEndUserLimits(next.plan, endUsers.limits), END_USER_LIMIT_NAMES);
  if (isRestrictive(current.status, next.status, before, after) || endUsersTighter) {
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
  return isTighter(before, after, LIMIT_NAMES);
}

/** Whether any limit of `names` was added or lowered. */
function isTighter<N extends string>(before: Record<N, number | null>, after: Record<N, number | null>, names: readonly N[]): boolean {
  return names.some((name) => {
    const was = before[name];
    const now = after[name];
    return now !== null && (was === null || now < was);
  });
}

export function toListPage<T extends { id: string }>(data: T[], hasMore: boolean): ListPage<T> {
  const last = data[data.length - 1];
  return hasMore && last ? { object: "list", data, has_more: true, next_cursor: last.id } : { object: "list", data, has_more: false };
}
