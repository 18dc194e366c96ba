/**
 * @module admin/admin-common
 * What every admin route shares: its base path, security requirement, error
 * documentation, path parameters and body reading.
 */
import type { Context } from "hono";
import * as z from "zod";
import type { App, HonoEnv } from "../hono-env";
import { parseWith, readJson } from "../body-validation";
import { errorDoc } from "../openapi/openapi-schemas";

export type AdminApp = App;

export const ADMIN_BASE_PATH = "/admin/v1";
/** The OpenAPI security requirement of every admin route (scheme registered in http/openapi/openapi-routes). */
export const ADMIN_SECURITY = [{ AdminToken: [] }];

export const adminErrors = {
  400: errorDoc("The request is invalid; `param` names the offending field."),
  401: errorDoc("The admin token is missing or wrong."),
  404: errorDoc("No such account or key (or the admin API is not enabled on this deployment)."),
};

export const AccountIdParams = z.object({ id: z.string().max(64).describe("Account id (acct_…)") });
export const KeyIdParams = z.object({ key_id: z.string().max(64).describe("API key id (key_…)") });

/**
 * Reads and validates a JSON body whatever its content type, with our error
 * envelope; an `optional` body may be empty (then it is `{}`).
 */
export async function readBody<S extends z.ZodType>(c: Context<HonoEnv>, schema: S, options: { optional?: boolean } = {}): Promise<z.infer<S>> {
  if (options.optional && (await c.req.text()).trim() === "") return parseWith(schema, {});
  return parseWith(schema, await readJson(c));
}
