import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RotatedApiKey } from "../../shared/admin";
import { accountStub, adminApi, checksum, dumpD1 } from "../helpers/admin";
import { errorOf, simBackends, tamper } from "../helpers/api";
import { newSim, pollUntil } from "../helpers/sim";
import { captureLogs } from "../helpers/logs";
import { generateApiKey } from "../../worker/accounts/keys/key-format";

afterEach(() => vi.restoreAllMocks());

/** The body of a key (what follows limo_sk_ / limo_test_): no part of a store may hold it. */
const bodyOf = (key: string) => key.replace(/^limo_(sk|test)_/, "");

describe("secrets at rest and in logs", () => {
  const a = adminApi();

  it("stores no secret in D1, in the account's Durable Object storage, or in the logs", async () => {
    const secrets: string[] = [];
    let accountId = "";
    const logs = await captureLogs(async () => {
      accountId = (await a.createAccount("Secret keeper")).id;
      const live = await a.createKey(accountId, { origins: ["https://app.example.com"] });
      const test = await a.createKey(accountId, { mode: "test" });
      secrets.push(live.key, test.key);
      await a.withKey(live.key, "/v1/models");
      await a.withKey(live.key, "/v1/models", { headers: { origin: "https://evil.example.com" } });
      await a.withKey(tamper(live.key), "/v1/models");
      const rotated = (await (await a.admin("POST", `/keys/${test.id}/rotate`, {})).json()) as RotatedApiKey;
      secrets.push(rotated.key);
      await a.withKey(test.key, "/v1/models");
      await a.admin("DELETE", `/keys/${live.id}`);
      await a.withKey(live.key, "/v1/models");
      await a.get("/v1/models"); // the dev key, seeded on first use
      await a.admin("GET", "/accounts", undefined, "wrong-admin-token-value");
    });
    secrets.push(a.env.DEV_API_KEY!, a.env.ADMIN_TOKEN!);

    const d1 = await dumpD1();
    expect(d1).toContain(accountId);
    const objectStorage = await runInDurableObject(accountStub(accountId), (_instance, state) => {
      const tables = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'").toArray();
      return JSON.stringify(tables.map(({ name }) => state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray()));
    });
    expect(objectStorage).toContain("key_");
    for (const secret of secrets) {
      for (const [where, text] of [["D1", d1], ["object storage", objectStorage], ["logs", logs]] as const) {
        expect(text.includes(secret), `${where} holds a secret`).toBe(false);
        expect(text.includes(bodyOf(secret).slice(8, 40)), `${where} holds part of a secret`).toBe(false);
      }
    }
    expect(logs).not.toContain("wrong-admin-token-value");
  });
});

describe("accounts are isolated from each other", () => {
  const a = adminApi();

  it("refuses a key whose routing part was changed to another account, checksum fixed or not", async () => {
    const accountA = (await a.createAccount("A")).id;
    const accountB = (await a.createAccount("B")).id;
    const { key } = await a.createKey(accountA);
    await a.createKey(accountB);
    const routingA = accountA.slice("acct_".length);
    const routingB = accountB.slice("acct_".length);
    const tampered = key.replace(routingA, routingB);
    const head = tampered.slice(0, -6);
    for (const forged of [tampered, head + checksum(head)]) {
      const res = await a.withKey(forged, "/v1/models");
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_api_key", message: "Incorrect API key provided." });
    }
    expect((await a.withKey(key, "/v1/models")).status).toBe(200);
  });

  it("never lets a key of one account revoke or see another's keys: revoking A's key leaves B's working", async () => {
    const accountA = (await a.createAccount("A")).id;
    const accountB = (await a.createAccount("B")).id;
    const keyA = await a.createKey(accountA);
    const keyB = await a.createKey(accountB);
    await a.admin("DELETE", `/keys/${keyA.id}`);
    expect((await a.withKey(keyA.key, "/v1/models")).status).toBe(401);
    expect((await a.withKey(keyB.key, "/v1/models")).status).toBe(200);
    const listedB = await (await a.admin("GET", `/accounts/${accountB}/keys`)).text();
    expect(listedB).not.toContain(keyA.id);
    // A key for the public API is not an admin credential.
    expect((await a.admin("GET", `/accounts/${accountA}/keys`, undefined, keyA.key)).status).toBe(401);
  });

  it("rejects malformed or typo'd keys before touching any Durable Object", async () => {
    let lookups = 0;
    const counting = {
      idFromName: (name: string) => {
        lookups++;
        return env.ACCOUNTS.idFromName(name);
      },
      get: (id: DurableObjectId) => env.ACCOUNTS.get(id),
    } as unknown as typeof env.ACCOUNTS;
    const b = adminApi({ ACCOUNTS: counting });
    const real = generateApiKey("acct_0123456789abcdef", "live");
    const typo = real.slice(0, 20) + (real[20] === "a" ? "b" : "a") + real.slice(21);
    for (const bad of ["limo_sk_short", `${real}x`, typo, real.replace("limo_sk_", "limo_pk_"), "sk-openai-style-key"]) {
      const res = await b.withKey(bad, "/v1/models");
      expect(res.status).toBe(401);
    }
    expect(lookups).toBe(0);
    expect((await b.withKey(real, "/v1/models")).status).toBe(401);
    expect(lookups).toBe(1);
  });

  it("answers a flood of well-formed unknown keys from the object's state, not from D1", async () => {
    const accountId = (await a.createAccount("Flooded")).id;
    const { key } = await a.createKey(accountId);
    expect((await a.withKey(key, "/v1/models")).status).toBe(200);
    const prepare = vi.spyOn(Object.getPrototypeOf(env.DB) as D1Database, "prepare");
    for (let i = 0; i < 25; i++) {
      expect((await a.withKey(generateApiKey(accountId, i % 2 ? "live" : "test"), "/v1/models")).status).toBe(401);
    }
    expect(prepare).not.toHaveBeenCalled();
    // The spy does see the object's D1 reads: an explicit sync makes one.
    await accountStub(accountId).sync(accountId);
    expect(prepare).toHaveBeenCalled();
  });
});

describe("revocation under load", () => {
  it("fails a revoked key on the very next request while its other requests are in flight", async () => {
    const sim = newSim();
    await sim.configure({ hang: true });
    const a = adminApi({ BACKENDS: simBackends(sim.url) });
    const accountId = (await a.createAccount("Busy")).id;
    const { id, key } = await a.createKey(accountId);
    const body = JSON.stringify({ model: "limo", messages: [{ role: "user", content: "1+1?" }], stream: true });
    const clients = Array.from({ length: 3 }, () => new AbortController());
    const inFlight = clients.map((client) =>
      a.withKey(key, "/v1/chat/completions", { method: "POST", body, signal: client.signal }).catch(() => null),
    );
    await pollUntil(() => sim.stats(), (s) => s.in_flight === 3);

    expect((await a.admin("DELETE", `/keys/${id}`)).status).toBe(200);
    const next = await a.withKey(key, "/v1/chat/completions", { method: "POST", body });
    expect(next.status).toBe(401);
    expect((await errorOf(next)).message).toMatch(/revoked/);
    expect((await sim.stats()).in_flight).toBe(3);

    for (const client of clients) client.abort();
    await Promise.all(inFlight);
    await sim.waitForIdle();
  });
});

describe("a failure between the Durable Object and D1", () => {
  /** D1 that answers reads but fails every write: the admin request dies half-way. */
  const failingWrites = {
    prepare(sql: string) {
      if (/^\s*(UPDATE|INSERT)/i.test(sql)) throw new Error("simulated D1 outage");
      return env.DB.prepare(sql);
    },
    batch: () => Promise.reject(new Error("simulated D1 outage")),
  } as unknown as D1Database;

  it("never leaves a revoked key working, nor a suspended account active", async () => {
    const a = adminApi();
    const accountId = (await a.createAccount("Half-way")).id;
    const { id, key } = await a.createKey(accountId);
    const { revokeKey } = await import("../../worker/accounts/keys/keys-service");
    const { updateAccount } = await import("../../worker/accounts/accounts-service");
    const broken = { DB: failingWrites, ACCOUNTS: env.ACCOUNTS };

    await expect(revokeKey(broken, id)).rejects.toThrow(/outage/);
    expect((await a.withKey(key, "/v1/models")).status).toBe(401);

    const other = await a.createKey(accountId);
    await expect(updateAccount(broken, accountId, { status: "suspended" })).rejects.toThrow(/outage/);
    expect((await a.withKey(other.key, "/v1/models")).status).toBe(403);
    // D1 still says active: the operator's retry (or a reactivation) converges both.
    expect((await a.admin("PATCH", `/accounts/${accountId}`, { status: "active" })).status).toBe(200);
    expect((await a.withKey(other.key, "/v1/models")).status).toBe(200);
  });

  it("never makes a new key work before D1 has it", async () => {
    const a = adminApi();
    const accountId = (await a.createAccount("Half-way")).id;
    const { createKey } = await import("../../worker/accounts/keys/keys-service");
    await expect(createKey({ DB: failingWrites, ACCOUNTS: env.ACCOUNTS }, accountId, {})).rejects.toThrow(/outage/);
    const page = (await (await a.admin("GET", `/accounts/${accountId}/keys`)).json()) as { data: unknown[] };
    expect(page.data).toHaveLength(0);
  });
});
