/**
 * @module plans
 * Named plans and their default limits: the deployment's configuration of
 * what an account may use unless an admin overrides it per account. `null`
 * means no limit. Token counts are prompt + completion tokens.
 */
import type { LimitName, Limits } from "./admin";
import { END_USER_LIMIT_NAMES, NO_END_USER_LIMITS, type EndUserLimitOverrides, type EndUserLimits } from "./end-users";

/** Every plan an account may be on. Edit here to change what plans grant. */
export const PLANS: Readonly<Record<string, Limits>> = {
  /** New accounts: generous rates, no quota; operators add limits per account. */
  standard: { requests_per_minute: 600, tokens_per_minute: null, max_concurrent_requests: 64, monthly_token_quota: null },
  /** A small trial: a few full-length LIMO answers a day. */
  free: { requests_per_minute: 20, tokens_per_minute: 200_000, max_concurrent_requests: 2, monthly_token_quota: 2_000_000 },
  pro: { requests_per_minute: 1_200, tokens_per_minute: 4_000_000, max_concurrent_requests: 64, monthly_token_quota: 500_000_000 },
  /** The development account of DEV_API_KEY: nothing limited unless overridden. */
  dev: { requests_per_minute: null, tokens_per_minute: null, max_concurrent_requests: null, monthly_token_quota: null },
};

export const DEFAULT_PLAN = "standard";

/** Per-account overrides: an absent limit follows the plan, `null` removes it, a number replaces it. */
export type LimitOverrides = Partial<Record<LimitName, number | null>>;

export function isKnownPlan(plan: string): boolean {
  return Object.hasOwn(PLANS, plan);
}

/** The limits in force: the plan's defaults with the account's overrides on top. */
export function effectiveLimits(plan: string, overrides: LimitOverrides): Limits {
  const base = PLANS[plan] ?? PLANS[DEFAULT_PLAN]!;
  return {
    requests_per_minute: pick(overrides, base, "requests_per_minute"),
    tokens_per_minute: pick(overrides, base, "tokens_per_minute"),
    max_concurrent_requests: pick(overrides, base, "max_concurrent_requests"),
    monthly_token_quota: pick(overrides, base, "monthly_token_quota"),
  };
}

function pick(overrides: LimitOverrides, base: Limits, name: LimitName): number | null {
  return Object.hasOwn(overrides, name) ? (overrides[name] ?? null) : base[name];
}

/**
 * Per-end-user limits each plan grants by default (shared/end-users.ts). No
 * plan limits end users today: a platform sets its own per account. A plan
 * absent here limits no end user.
 */
export const END_USER_PLAN_LIMITS: Readonly<Record<string, Partial<EndUserLimits>>> = {};

/** The per-end-user limits in force: the plan's defaults with the account's overrides on top. */
export function effectiveEndUserLimits(plan: string, overrides: EndUserLimitOverrides): EndUserLimits {
  const base = { ...NO_END_USER_LIMITS, ...END_USER_PLAN_LIMITS[plan] };
  const out = { ...base };
  for (const name of END_USER_LIMIT_NAMES) if (Object.hasOwn(overrides, name)) out[name] = overrides[name] ?? null;
  return out;
}
