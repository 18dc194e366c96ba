/**
 * @module api
 * Calls the Worker in-process, inside workerd, with the real bindings from
 * wrangler.toml plus per-test overrides (each test gets its own simulator
 * instance as its backend).
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../worker/index";
import type { Env } from "../../worker/env";

export const TEST_API_KEY = "limo_dev_test_key_0123456789";

export interface Api {
  env: Env;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POSTs JSON with the test key. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
}

/** Backends JSON for one simulator base URL serving both LIMO models. */
export function simBackends(url: string, name = "sim"): string {
  return JSON.stringify([{ name, url, models: ["GAIR/LIMO", "GAIR/LIMO-v2"], weight: 1, kind: "simulator" }]);
}

export function api(overrides: Partial<Env> = {}): Api {
  const testEnv: Env = { ...env, DEV_API_KEY: TEST_API_KEY, ...overrides };
  const call = async (path: string, init: RequestInit = {}) => {
    const ctx = createExecutionContext();
    const response = await worker.fetch(new Request(`https://api.test${path}`, init) as Request<unknown, IncomingRequestCfProperties>, testEnv, ctx);
    // Background work (usage settlement) must not be left dangling between tests.
    void waitOnExecutionContext(ctx);
    return response;
  };
  const auth = { authorization: `Bearer ${TEST_API_KEY}` };
  return {
    env: testEnv,
    fetch: call,
    post: (path, body, headers = {}) =>
      call(path, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    get: (path, headers = {}) => call(path, { headers: { ...auth, ...headers } }),
  };
}

/** The parsed OpenAI error envelope of a response, asserting its shape. */
export async function errorOf(response: Response): Promise<{ message: string; type: string; param: string | null; code: string | null }> {
  const body = (await response.json()) as { error: { message: string; type: string; param: string | null; code: string | null } };
  if (!body.error || typeof body.error.message !== "string") throw new Error(`not an error envelope: ${JSON.stringify(body)}`);
  return body.error;
}

/** The secret with its last character changed (to another one: a random secret may already end in "x"). */
export function tamper(secret: string): string {
  return `${secret.slice(0, -1)}${secret.endsWith("x") ? "y" : "x"}`;
}
