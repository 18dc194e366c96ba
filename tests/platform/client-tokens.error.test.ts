import { describe, expect, it } from "vitest";
import { errorOf } from "../helpers/api";
import { platform } from "../helpers/platform";

const PAGE = "https://tutor.example";

describe("client tokens refused", () => {
  it("from another origin than the token's", async () => {
    const p = await platform();
    const { token } = await p.mint({ end_user: "s1", origins: [PAGE] });
    const res = await p.withToken(token, { max_tokens: 2 }, "https://evil.example");
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "origin_not_allowed" });
    expect(await p.ledger()).toHaveLength(0);
  });

  it("naming another end user in the body", async () => {
    const p = await platform();
    const { token } = await p.mint({ end_user: "s1" });
    for (const [field, value] of [["safety_identifier", "s2"], ["user", "s2"]] as const) {
      const res = await p.withToken(token, { max_tokens: 2, [field]: value });
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_value", param: field });
    }
    expect(await p.ledger()).toHaveLength(0);
  });

  it("on the first request after it expires", async () => {
    const p = await platform();
    const minted = await p.mint({ end_user: "s1" });
    expect((await p.withToken(minted.token, { max_tokens: 2 })).status).toBe(200);
    await p.expireToken(minted.id, Date.now());
    for (const res of [await p.withToken(minted.token, { max_tokens: 2 }), await p.a.withKey(minted.token, "/v1/models")]) {
      expect(res.status).toBe(401);
      expect((await errorOf(res)).message).toMatch(/expired/);
    }
  });

  it("once its parent key is revoked", async () => {
    const p = await platform();
    const key = await p.a.createKey(p.accountId);
    const { token } = await p.mint({ end_user: "s1" }, key.key);
    expect((await p.withToken(token, { max_tokens: 2 })).status).toBe(200);
    expect((await p.a.admin("DELETE", `/keys/${key.id}`)).status).toBe(200);
    const res = await p.withToken(token, { max_tokens: 2 });
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_api_key" });
  });

  it("once its parent key is rotated past its grace", async () => {
    const p = await platform();
    const key = await p.a.createKey(p.accountId);
    const { token } = await p.mint({ end_user: "s1" }, key.key);
    expect((await p.a.admin("POST", `/keys/${key.id}/rotate`, { grace_seconds: 0 })).status).toBe(201);
    const res = await p.withToken(token, { max_tokens: 2 });
    expect(res.status).toBe(401);
    expect((await errorOf(res)).message).toMatch(/rotated/);
  });

  it("after its budget is spent, on every route", async () => {
    const p = await platform();
    const { token } = await p.mint({ end_user: "s1", max_requests: 1 });
    expect((await p.withToken(token, { max_tokens: 2 })).status).toBe(200);
    for (const res of [await p.withToken(token, { max_tokens: 2 }), await p.a.withKey(token, "/v1/models")]) {
      expect(res.status).toBe(429);
      expect(res.headers.get("x-should-retry")).toBe("false");
      expect(await errorOf(res)).toMatchObject({ code: "client_token_budget_exceeded" });
    }
  });

  it("when minting asks for more than the key allows, or for a bad life", async () => {
    const p = await platform();
    const narrow = await p.a.createKey(p.accountId, { models: ["limo"], origins: [PAGE] });
    const cases: [Record<string, unknown>, string][] = [
      [{ end_user: "s1", models: ["limo-v2"] }, "models"],
      [{ end_user: "s1", origins: ["https://other.example"] }, "origins"],
      [{ end_user: "s1", models: ["no-such-model"] }, "models"],
      [{ end_user: "s1", expires_in_seconds: 9 }, "expires_in_seconds"],
      [{ end_user: "s1", expires_in_seconds: 7201 }, "expires_in_seconds"],
      [{ end_user: "x".repeat(65) }, "end_user"],
      [{}, "end_user"],
    ];
    for (const [body, param] of cases) {
      const res = await p.a.withKey(narrow.key, "/v1/client_tokens", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await errorOf(res)).param).toBe(param);
    }
  });
});
