/**
 * @module client-tokens
 * Short-lived client tokens (`POST /v1/client_tokens`): what a platform's
 * server asks for with its API key, and what it hands to one end user's
 * browser. Times on the wire are Unix seconds.
 */
import * as z from "zod";
import { OriginSchema } from "./admin";
import { MAX_END_USER_CHARS } from "./usage-series";

/** Shortest and longest life of a client token, and its default, in seconds (OpenAI's client secrets: 10 s to 2 h, 10 min). */
export const CLIENT_TOKEN_MIN_TTL_SECONDS = 10;
export const CLIENT_TOKEN_MAX_TTL_SECONDS = 7200;
export const CLIENT_TOKEN_DEFAULT_TTL_SECONDS = 600;

const budget = z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable().optional();

export const CreateClientTokenRequestSchema = z
  .strictObject({
    end_user: z
      .string()
      .min(1)
      .max(MAX_END_USER_CHARS)
      .describe("The end user every request of the token is for (opaque; hash your own user id)"),
    expires_in_seconds: z
      .number()
      .int()
      .min(CLIENT_TOKEN_MIN_TTL_SECONDS)
      .max(CLIENT_TOKEN_MAX_TTL_SECONDS)
      .optional()
      .describe(`Lifetime, ${CLIENT_TOKEN_MIN_TTL_SECONDS} to ${CLIENT_TOKEN_MAX_TTL_SECONDS} seconds (default ${CLIENT_TOKEN_DEFAULT_TTL_SECONDS})`),
    models: z.array(z.string().min(1).max(256)).min(1).max(16).nullable().optional().describe("Model ids the token may use (within the key's); absent or null for the key's"),
    origins: z.array(OriginSchema).min(1).max(32).nullable().optional().describe("Browser origins allowed to use the token; absent or null for the key's"),
    max_total_tokens: budget.describe("Prompt + completion tokens the token may use in all; reserved before each request"),
    max_requests: budget.describe("Generation requests the token may make in all"),
  })
  .meta({ id: "CreateClientTokenRequest" });
export type CreateClientTokenRequest = z.infer<typeof CreateClientTokenRequestSchema>;

export const ClientTokenSchema = z
  .object({
    object: z.literal("client_token"),
    id: z.string(),
    token: z.string().describe("The secret (`limo_ct_…`, `limo_ct_test_…` from a test key): shown only in this answer"),
    mode: z.enum(["live", "test"]),
    end_user: z.string(),
    created_at: z.number().int(),
    expires_at: z.number().int().describe("Unix seconds; the token is refused from then on"),
    models: z.array(z.string()).nullable(),
    origins: z.array(z.string()).nullable(),
    max_total_tokens: z.number().int().nullable(),
    max_requests: z.number().int().nullable(),
    key_id: z.string().describe("The API key that minted it: the token dies with it"),
  })
  .meta({ id: "ClientToken" });
export type ClientToken = z.infer<typeof ClientTokenSchema>;
