/**
 * @module admin
 * The admin API's wire format (`/admin/v1`): zod schemas for request bodies,
 * query strings and answers. The Worker validates with them, the OpenAPI
 * document is generated from them, and the operator CLI and the tests read
 * their types. Times on the wire are Unix seconds, as in OpenAI's API.
 */
import * as z from "zod";
import { EndUserLimitsSchema, EndUserLimitsUpdateSchema } from "./end-users";

export const ACCOUNT_STATUSES = ["active", "suspended"] as const;
export const KEY_MODES = ["live", "test"] as const;
export const KEY_STATUSES = ["active", "revoked", "expired"] as const;

export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
export type KeyMode = (typeof KEY_MODES)[number];
export type KeyStatus = (typeof KEY_STATUSES)[number];

/** Longest grace a rotated key may keep working: one week, in seconds. */
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 3600;
/** Page sizes for list endpoints. */
export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

const name = z.string().trim().min(1).max(200);
const plan = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "must be a lowercase slug of at most 32 characters");
/** A limit is a positive integer, or `null` for none. */
const limit = z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable();

/** Per-account limits (enforced by the next issue's admission; stored from now on). */
export const LimitsSchema = z
  .strictObject({
    requests_per_minute: limit.optional(),
    tokens_per_minute: limit.optional(),
    max_concurrent_requests: limit.optional(),
    monthly_token_quota: limit.optional(),
  })
  .meta({ id: "LimitsUpdate", description: "Limits to change; a field set to null removes that limit, an absent field keeps it." });

export const LIMIT_NAMES = ["requests_per_minute", "tokens_per_minute", "max_concurrent_requests", "monthly_token_quota"] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];
/** Every limit, present: `null` means unlimited (or the plan's default, next issue). */
export type Limits = Record<LimitName, number | null>;

export const StoredLimitsSchema = z
  .object({
    requests_per_minute: limit,
    tokens_per_minute: limit,
    max_concurrent_requests: limit,
    monthly_token_quota: limit,
  })
  .meta({ id: "Limits" });

/** An origin as browsers send it: scheme, host and optional port, nothing else. */
export const OriginSchema = z
  .string()
  .max(256)
  .refine((value) => {
    try {
      return new URL(value).origin === value;
    } catch {
      return false;
    }
  }, "must be an origin such as https://app.example.com (scheme, host and port only)");

export const CreateAccountRequestSchema = z
  .strictObject({ name, plan: plan.optional() })
  .meta({ id: "CreateAccountRequest" });

export const UpdateAccountRequestSchema = z
  .strictObject({
    name: name.optional(),
    plan: plan.optional(),
    status: z.enum(ACCOUNT_STATUSES).optional(),
    limits: LimitsSchema.optional(),
    end_user_limits: EndUserLimitsUpdateSchema.optional().describe("Limits each end user (`safety_identifier`, else `user`) gets separately"),
    require_end_user: z.boolean().optional().describe("true: a generation request that names no end user is a 400"),
  })
  .meta({ id: "UpdateAccountRequest" });

export const CreateKeyRequestSchema = z
  .strictObject({
    name: name.optional(),
    mode: z.enum(KEY_MODES).optional().describe("live (default) or test: test keys never reach a GPU and are never billed"),
    expires_at: z.number().int().positive().nullable().optional().describe("Unix seconds; must be in the future"),
    models: z
      .array(z.string().min(1).max(256))
      .min(1)
      .max(16)
      .nullable()
      .optional()
      .describe("Model ids this key may use; absent or null for all"),
    origins: z.array(OriginSchema).min(1).max(32).nullable().optional().describe("Browser origins allowed to use this key; absent or null for any"),
  })
  .meta({ id: "CreateKeyRequest" });

export const RotateKeyRequestSchema = z
  .strictObject({
    grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_ROTATION_GRACE_SECONDS)
      .optional()
      .describe("How long the old secret keeps working, in seconds (default 0)"),
  })
  .meta({ id: "RotateKeyRequest" });

export const ListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).optional(),
  after: z.string().min(1).max(64).optional(),
});

export const AccountListQuerySchema = ListQuerySchema.extend({
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe("Only accounts whose name contains this text (any case) or whose id starts with it"),
});

export const AccountSchema = z
  .object({
    id: z.string(),
    object: z.literal("account"),
    name: z.string(),
    plan: z.string(),
    status: z.enum(ACCOUNT_STATUSES),
    limits: StoredLimitsSchema,
    end_user_limits: EndUserLimitsSchema,
    require_end_user: z.boolean(),
    created_at: z.number().int(),
    updated_at: z.number().int(),
  })
  .meta({ id: "Account" });

export const ApiKeySchema = z
  .object({
    id: z.string(),
    object: z.literal("api_key"),
    account_id: z.string(),
    name: z.string().nullable(),
    mode: z.enum(KEY_MODES),
    status: z.enum(KEY_STATUSES),
    prefix: z.string().describe("The first characters of the secret, to recognise it"),
    created_at: z.number().int(),
    expires_at: z.number().int().nullable(),
    revoked_at: z.number().int().nullable().describe("When the key stops (or stopped) working; in the future during a rotation's grace"),
    last_used_at: z.number().int().nullable().describe("Updated at most once a minute"),
    models: z.array(z.string()).nullable(),
    origins: z.array(z.string()).nullable(),
    rotated_to: z.string().nullable().describe("The key that replaced this one"),
  })
  .meta({ id: "ApiKey" });

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().describe("The secret: shown only in this answer"),
}).meta({ id: "CreatedApiKey" });

export const RotatedApiKeySchema = CreatedApiKeySchema.extend({
  rotated_from: z.string(),
  previous_key_revoked_at: z.number().int().describe("When the old secret stops working (Unix seconds)"),
}).meta({ id: "RotatedApiKey" });

function listOf<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      object: z.literal("list"),
      data: z.array(item),
      has_more: z.boolean(),
      next_cursor: z.string().optional().describe("Pass as `after` to get the next page"),
    })
    .meta({ id });
}

export const AccountListSchema = listOf(AccountSchema, "AccountList");
export const ApiKeyListSchema = listOf(ApiKeySchema, "ApiKeyList");

export type CreateAccountRequest = z.infer<typeof CreateAccountRequestSchema>;
export type UpdateAccountRequest = z.infer<typeof UpdateAccountRequestSchema>;
export type CreateKeyRequest = z.infer<typeof CreateKeyRequestSchema>;
export type RotateKeyRequest = z.infer<typeof RotateKeyRequestSchema>;
export type ListQuery = z.infer<typeof ListQuerySchema>;
export type AccountListQuery = z.infer<typeof AccountListQuerySchema>;
export type Account = z.infer<typeof AccountSchema>;
export type ApiKey = z.infer<typeof ApiKeySchema>;
export type CreatedApiKey = z.infer<typeof CreatedApiKeySchema>;
export type RotatedApiKey = z.infer<typeof RotatedApiKeySchema>;
export interface ListPage<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  next_cursor?: string;
}
