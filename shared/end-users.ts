/**
 * @module end-users
 * Limits per end user: what each end user (a request's `safety_identifier`,
 * else its `user`) of one account may use, separately from the others. The
 * wire format of `PATCH /admin/v1/accounts/{id} {"end_user_limits", "require_end_user"}`
 * and the effective limits the account's object enforces. `null` means no limit.
 */
import * as z from "zod";

export { MAX_END_USER_CHARS } from "./usage-series";

export const END_USER_LIMIT_NAMES = ["requests_per_minute", "tokens_per_day", "max_concurrent_requests"] as const;
export type EndUserLimitName = (typeof END_USER_LIMIT_NAMES)[number];
/** Every end-user limit, present: `null` means none. */
export type EndUserLimits = Record<EndUserLimitName, number | null>;
/** An account's overrides: an absent limit follows the plan, `null` removes it, a number replaces it. */
export type EndUserLimitOverrides = Partial<Record<EndUserLimitName, number | null>>;

/** What an account says about its end users (stored as one JSON column). */
export interface EndUserSettings {
  limits: EndUserLimitOverrides;
  /** A generation request that names no end user is a 400. */
  requireEndUser: boolean;
}

export const NO_END_USER_LIMITS: EndUserLimits = { requests_per_minute: null, tokens_per_day: null, max_concurrent_requests: null };

const limit = z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable();

export const EndUserLimitsUpdateSchema = z
  .strictObject({
    requests_per_minute: limit.optional().describe("Requests each end user may start per minute (a token bucket)"),
    tokens_per_day: limit.optional().describe("Prompt + completion tokens each end user may use per UTC day (reserved before the backend is called)"),
    max_concurrent_requests: limit.optional().describe("Requests of one end user in progress at once"),
  })
  .meta({ id: "EndUserLimitsUpdate", description: "Per-end-user limits to change; null removes one, an absent field keeps it." });

export const EndUserLimitsSchema = z
  .object({ requests_per_minute: limit, tokens_per_day: limit, max_concurrent_requests: limit })
  .meta({ id: "EndUserLimits", description: "Limits each end user of the account gets separately; null for none" });

/** Parses the stored JSON column; anything damaged or unknown is dropped (never a failed request). */
export function parseEndUserSettings(text: string | null | undefined): EndUserSettings {
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text ?? "{}");
    if (parsed && typeof parsed === "object") raw = parsed as Record<string, unknown>;
  } catch {
    // A damaged column means "no settings".
  }
  const limits: EndUserLimitOverrides = {};
  const stored = raw.limits && typeof raw.limits === "object" ? (raw.limits as Record<string, unknown>) : {};
  for (const name of END_USER_LIMIT_NAMES) {
    if (!Object.hasOwn(stored, name)) continue;
    const value = stored[name];
    if (value === null) limits[name] = null;
    else if (typeof value === "number" && Number.isInteger(value) && value > 0) limits[name] = value;
  }
  return { limits, requireEndUser: raw.require_end_user === true };
}

/** The JSON column for `settings`. */
export function serializeEndUserSettings(settings: EndUserSettings): string {
  return JSON.stringify({ limits: settings.limits, require_end_user: settings.requireEndUser });
}
