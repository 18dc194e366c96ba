import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AccountKeyAuthenticator } from "../../worker/accounts/auth-service";
import { adminApi } from "../helpers/admin";
import { errorOf } from "../helpers/api";

describe("admin: key errors", () => {
  const a = adminApi();

  it("answers 404 when creating or listing keys of an unknown account", async () => {
    expect((await a.admin("POST", "/accounts/acct_0000000000000000/keys", {})).status).toBe(404);
    expect((await a.admin("GET", "/accounts/acct_0000000000000000/keys")).status).toBe(404);
  });

  it.each([
    ["an unknown mode", { mode: "prod" }, "invalid_value", "mode"],
    ["a past expiry", { expires_at: 1_000_000_000 }, "invalid_value", "expires_at"],
    ["an unknown model", { models: ["limo", "gpt-4o"] }, "invalid_value", "models[1]"],
    ["an empty model list", { models: [] }, "invalid_value", "models"],
    ["an origin with a path", { origins: ["https://app.example.com/page"] }, "invalid_value", "origins[0]"],
    ["an origin that is not a URL", { origins: ["app.example.com"] }, "invalid_value", "origins[0]"],
    ["an unknown field", { scopes: ["all"] }, "unknown_parameter", "scopes"],
  ])("refuses to create a key with %s", async (_name, body, code, param) => {
    const { id } = await a.createAccount();
    const res = await a.admin("POST", `/accounts/${id}/keys`, body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code, param });
  });

  it("answers 404 when revoking or rotating an unknown key", async () => {
    expect((await a.admin("DELETE", "/keys/key_0000000000000000")).status).toBe(404);
    const res = await a.admin("POST", "/keys/key_0000000000000000/rotate", {});
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "not_found" });
  });

  it("refuses to rotate a revoked key or one already rotated (409)", async () => {
    const { id: accountId } = await a.createAccount();
    const revoked = await a.createKey(accountId);
    await a.admin("DELETE", `/keys/${revoked.id}`);
    const r1 = await a.admin("POST", `/keys/${revoked.id}/rotate`);
    expect(r1.status).toBe(409);
    expect(await errorOf(r1)).toMatchObject({ code: "conflict" });

    const rotated = await a.createKey(accountId);
    expect((await a.admin("POST", `/keys/${rotated.id}/rotate`, { grace_seconds: 60 })).status).toBe(201);
    expect((await a.admin("POST", `/keys/${rotated.id}/rotate`, { grace_seconds: 60 })).status).toBe(409);
  });

  it.each([
    ["a negative grace", { grace_seconds: -1 }, "invalid_value"],
    ["a grace over a week", { grace_seconds: 8 * 24 * 3600 }, "invalid_value"],
    ["a fractional grace", { grace_seconds: 1.5 }, "invalid_type"],
  ])("refuses to rotate with %s", async (_name, body, code) => {
    const { id: accountId } = await a.createAccount();
    const { id } = await a.createKey(accountId);
    const res = await a.admin("POST", `/keys/${id}/rotate`, body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code, param: "grace_seconds" });
  });

  it("refuses a rotate body that is not JSON", async () => {
    const { id: accountId } = await a.createAccount();
    const { id } = await a.createKey(accountId);
    const res = await a.admin("POST", `/keys/${id}/rotate`, "grace=5");
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_json" });
  });

  it("refuses an expired key with a 401 that says so", async () => {
    const { id: accountId } = await a.createAccount();
    const { key, expires_at } = await a.createKey(accountId, { expires_at: Math.floor(Date.now() / 1000) + 1 });
    // The authenticator takes its clock: ask as of the expiry instead of waiting for it.
    const at = (ms: number) => new AccountKeyAuthenticator(env, { now: () => ms });
    const ask = (authenticator: AccountKeyAuthenticator) => authenticator.identify(key, new Request("https://api.test/v1/models")).then((c) => authenticator.authorize(c));
    await expect(ask(at(Date.now()))).resolves.toMatchObject({ accountId });
    await expect(ask(at(expires_at! * 1000))).rejects.toMatchObject({ status: 401, code: "invalid_api_key", message: expect.stringMatching(/expired/) });
  });
});
