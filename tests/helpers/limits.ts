/**
 * @module helpers/limits
 * An account with limits, a live key, and its own simulator instance as the
 * backend: the setting of every limits and ledger test.
 */
import type { Limits } from "../../shared/admin";
import type { LedgerEntry } from "../../worker/accounts/account-rpc";
import { adminApi, accountStub, type AdminApi } from "./admin";
import { simBackends } from "./api";
import { newSim, pollUntil, type SimHandle } from "./sim";

export interface LimitedAccount {
  a: AdminApi;
  sim: SimHandle;
  accountId: string;
  key: string;
  /** POSTs a chat completion with the account's key. */
  chat(body: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>;
  /** The account object's ledger, newest first. */
  ledger(): Promise<LedgerEntry[]>;
  /** Waits until the account has nothing in flight, then returns the ledger. */
  settledLedger(expected: number): Promise<LedgerEntry[]>;
}

export async function limitedAccount(limits: Partial<Limits> = {}): Promise<LimitedAccount> {
  const sim = newSim();
  const a = adminApi({ BACKENDS: simBackends(sim.url) });
  const { id: accountId } = await a.createAccount("Limited");
  if (Object.keys(limits).length > 0) {
    const res = await a.admin("PATCH", `/accounts/${accountId}`, { limits });
    if (res.status !== 200) throw new Error(`setting limits failed: ${await res.text()}`);
  }
  const { key } = await a.createKey(accountId);
  const stub = accountStub(accountId);
  const ledger = () => stub.ledger() as Promise<LedgerEntry[]>;
  return {
    a,
    sim,
    accountId,
    key,
    chat: (body, headers = {}) =>
      a.withKey(key, "/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "limo", messages: [{ role: "user", content: "What is 2+2?" }], ...body }),
      }),
    ledger,
    settledLedger: async (expected) => {
      await pollUntil(() => stub.inFlight() as Promise<number>, (n) => n === 0);
      return pollUntil(ledger, (entries) => entries.length >= expected);
    },
  };
}
