/**
 * @module backends/setup
 * An account with a live key in front of several simulator instances, each a
 * backend of its own, and the checks every routing test ends with: nothing in
 * flight (account object and backend pool), and one ledger entry per request.
 */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { Env } from "../../worker/env";
import { poolObject } from "../../worker/routing/pool-rpc";
import type { LedgerEntry } from "../../worker/accounts/account-rpc";
import { accountStub, adminApi, type AdminApi } from "../helpers/admin";
import { newSim, pollUntil, type SimHandle } from "../helpers/sim";

export interface Fleet {
  a: AdminApi;
  sims: SimHandle[];
  urls: string[];
  accountId: string;
  key: string;
  chat(body?: Record<string, unknown>): Promise<Response>;
  /** Waits until nothing is in flight anywhere, then returns the ledger (at least `expected` entries). */
  settled(expected: number): Promise<LedgerEntry[]>;
}

export async function fleet(
  options: { backends?: number; maxInFlight?: number; urls?: string[]; env?: Partial<Env>; fields?: Record<string, unknown> } = {},
): Promise<Fleet> {
  const sims = Array.from({ length: options.backends ?? 2 }, () => newSim());
  const urls = [...sims.map((s) => s.url), ...(options.urls ?? [])];
  const backends = urls.map((url, i) => ({
    name: `b${i}`,
    url,
    models: ["GAIR/LIMO", "GAIR/LIMO-v2"],
    weight: 1,
    kind: "simulator",
    region: i % 2 ? "eu" : "us",
    gpu: "H200",
    ...(options.maxInFlight ? { max_in_flight: options.maxInFlight } : {}),
    ...options.fields,
  }));
  const a = adminApi({ BACKENDS: JSON.stringify(backends), ...options.env });
  const { id: accountId } = await a.createAccount("Routing");
  const res = await a.admin("PATCH", `/accounts/${accountId}`, {
    limits: { requests_per_minute: null, max_concurrent_requests: null, tokens_per_minute: null },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const { key } = await a.createKey(accountId);
  const stub = accountStub(accountId);
  const pool = poolObject(env);
  return {
    a,
    sims,
    urls,
    accountId,
    key,
    chat: (body = {}) =>
      a.withKey(key, "/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "limo", messages: [{ role: "user", content: "What is 2+2?" }], max_tokens: 8, ...body }),
      }),
    async settled(expected) {
      await pollUntil(() => stub.inFlight() as Promise<number>, (n) => n === 0);
      for (const url of urls) await pollUntil(() => pool.inFlight(url) as Promise<number>, (n) => n === 0);
      for (const sim of sims) await sim.waitForIdle();
      return pollUntil(() => stub.ledger() as Promise<LedgerEntry[]>, (entries) => entries.length >= expected);
    },
  };
}

/** Every refusal is a 503 or 429 that says when to come back. */
export function expectRetryable(res: Response): void {
  expect([429, 503]).toContain(res.status);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
}
