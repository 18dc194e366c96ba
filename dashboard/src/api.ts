/**
 * @module api
 * Reads the dashboard's data from the Worker's own JSON APIs, same origin,
 * with the signed-in credential as a Bearer header. Errors arrive in OpenAI's
 * envelope and become an `ApiProblem` whose message the page shows as text.
 */
import { readCredential } from "./session";

/** A refused or failed call: the HTTP status and the API's own code and message. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string | null;

  constructor(status: number, code: string | null, message: string) {
    super(message);
    this.name = "ApiProblem";
    this.status = status;
    this.code = code;
  }

  /** The credential is missing, wrong, revoked or expired: sign in again. */
  get signedOut(): boolean {
    return this.status === 401;
  }
}

export type Query = Record<string, string | number | undefined>;

/** `GET path?query` as JSON with the stored credential (`token` overrides it: the sign-in check). */
export async function apiGet<T>(path: string, query: Query = {}, token?: string): Promise<T> {
  const bearer = token ?? readCredential()?.token;
  if (!bearer) throw new ApiProblem(401, "invalid_api_key", "Not signed in.");
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const search = params.size > 0 ? `?${params}` : "";
  let res: Response;
  try {
    res = await fetch(`${path}${search}`, {
      headers: { authorization: `Bearer ${bearer}`, accept: "application/json" },
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiProblem(0, null, "The API cannot be reached. Check the connection and try again.");
  }
  const text = await res.text();
  if (!res.ok) throw problemFrom(res.status, text);
  return JSON.parse(text) as T;
}

function problemFrom(status: number, body: string): ApiProblem {
  try {
    const envelope = JSON.parse(body) as { error?: { message?: unknown; code?: unknown } };
    const message = typeof envelope.error?.message === "string" ? envelope.error.message : `HTTP ${status}`;
    const code = typeof envelope.error?.code === "string" ? envelope.error.code : null;
    return new ApiProblem(status, code, message);
  } catch {
    return new ApiProblem(status, null, `The API answered HTTP ${status}.`);
  }
}
