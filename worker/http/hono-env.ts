/**
 * @module hono-env
 * The one Hono environment type every route and middleware shares: the
 * bindings and the per-request values middleware sets.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Credential, Principal } from "../accounts/principal";
import type { Env } from "../env";

/** Per-request values set by middleware. */
export interface Variables {
  requestId: string;
  /** The key as checked offline (every authenticated route). */
  credential: Credential;
  /** The authorized caller (set by bearerAuth on the routes that authorize the key up front). */
  principal: Principal;
}

export interface HonoEnv {
  Bindings: Env;
  Variables: Variables;
}

/** The application every route registers on (http/ and http/admin/). */
export type App = OpenAPIHono<HonoEnv>;
