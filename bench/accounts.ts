/**
 * @module accounts
 * The admission rows' keys (issue 4), made through the gateway's admin API
 * exactly as an operator would (`npm run admin`): two accounts on the `dev`
 * plan (no limit by default), each with a live key; one of them then gets
 * all four limits, set so high that nothing the benchmark sends is ever
 * refused. The two keys differ only in the limits their account checks and
 * settles on every request.
 */
import type { KeyName } from "./scenarios";

/** Far above anything the benchmark sends: a limit that is checked and settled, never hit. */
export const BENCH_LIMITS = {
  requests_per_minute: 100_000_000,
  tokens_per_minute: 100_000_000_000,
  max_concurrent_requests: 100_000,
  monthly_token_quota: 1_000_000_000_000_000,
} as const;

/** Per-end-user limits of the `students` account: checked and settled on every request, never hit. */
export const BENCH_END_USER_LIMITS = { requests_per_minute: 100_000_000, tokens_per_day: 100_000_000_000, max_concurrent_requests: 100_000 } as const;

export type BenchKeys = Record<KeyName, string> & {
  /** What was made, for the results (ids and limits; never the secrets). */
  accounts: Record<string, unknown>;
};

async function admin<T>(url: string, token: string, method: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`admin ${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Makes the `unlimited` and `limited` accounts and their live keys; `dev` is the dev key as given. */
export async function createBenchKeys(gatewayUrl: string, adminToken: string, devKey: string): Promise<BenchKeys> {
  const made: Record<string, unknown> = {};
  const keys = { dev: devKey } as Record<KeyName, string>;
  for (const name of ["unlimited", "limited", "students"] as const) {
    const account = await admin<{ id: string }>(gatewayUrl, adminToken, "POST", "/accounts", { name: `bench ${name}`, plan: "dev" });
    const updated =
      name === "unlimited"
        ? (account as { limits?: unknown })
        : await admin<{ limits: unknown }>(gatewayUrl, adminToken, "PATCH", `/accounts/${account.id}`, {
            limits: BENCH_LIMITS,
            ...(name === "students" ? { end_user_limits: BENCH_END_USER_LIMITS } : {}),
          });
    const key = await admin<{ id: string; key: string; mode: string }>(gatewayUrl, adminToken, "POST", `/accounts/${account.id}/keys`, {
      name: `bench ${name}`,
    });
    if (key.mode !== "live") throw new Error(`the bench's ${name} key is ${key.mode}, not live`);
    keys[name] = key.key;
    made[name] = { account_id: account.id, key_id: key.id, mode: key.mode, limits: updated.limits };
  }
  return { ...keys, accounts: made };
}
