/**
 * @module answers/check-route.helpers
 * Calls `POST /v1/answers/check` with a key.
 */
import type { AdminApi } from "../helpers/admin";

export function checkWith(a: AdminApi, key: string, body: unknown): Promise<Response> {
  return a.withKey(key, "/v1/answers/check", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
