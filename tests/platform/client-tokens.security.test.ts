import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { accountStub, checksum, dumpD1, TEST_ADMIN_TOKEN } from "../helpers/admin";
import { errorOf, tamper } from "../helpers/api";
import { captureLogs } from "../helpers/logs";
import { platform } from "../helpers/platform";
import { CLIENT_TOKEN_ROUTES } from "../../worker/accounts/client-tokens/client-token-scope";

afterEach(() => vi.restoreAllMocks());

describe("client tokens are secrets of their own, narrower than their key", () => {
  it("stores no token in D1, in the account object's storage, or in the logs", async () => {
    const p = await platform({ requests_per_minute: 1 });
    const tokens: string[] = [];
    const logs = await captureLogs(async () => {
      const a = await p.mint({ end_user: "s1", origins: ["https://tutor.example"], max_requests: 1 });
      const b = await p.mint({ end_user: "s2" });
      tokens.push(a.token, b.token);
      await p.withToken(a.token, { max_tokens: 2 }, "https://tutor.example");
      await p.withToken(a.token, { max_tokens: 2 }, "https://evil.example");
      await p.withToken(a.token, { max_tokens: 2 });
      await p.withToken(b.token, { max_tokens: 2, safety_identifier: "other" });
      await p.a.withKey(b.token, "/v1/usage");
      await p.a.withKey(tamper(b.token), "/v1/models");
      await p.settledLedger(1);
    });
    const d1 = await dumpD1();
    const objectStorage = await runInDurableObject(accountStub(p.accountId), (_instance, state) => {
      const tables = state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'").toArray();
      return JSON.stringify(tables.map(({ name }) => state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray()));
    });
    expect(objectStorage).toContain("ct_");
    for (const token of tokens) {
      const body = token.replace(/^limo_ct_/, "");
      for (const [where, text] of [["D1", d1], ["object storage", objectStorage], ["logs", logs]] as const) {
        expect(text.includes(token), `${where} holds a token`).toBe(false);
        expect(text.includes(body.slice(8, 40)), `${where} holds part of a token`).toBe(false);
      }
    }
  });

  it("cannot mint tokens, read usage or reach the admin API", async () => {
    const p = await platform();
    const { token } = await p.mint({ end_user: "s1" });
    const mint = await p.a.withKey(token, "/v1/client_tokens", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ end_user: "s9" }) });
    expect(mint.status).toBe(403);
    expect(await errorOf(mint)).toMatchObject({ code: "permission_denied", type: "invalid_request_error" });
    for (const path of ["/v1/usage", "/v1/usage/series"]) {
      const res = await p.a.withKey(token, path);
      expect(res.status, path).toBe(403);
      expect((await errorOf(res)).code).toBe("permission_denied");
    }
    const admin = await p.a.admin("GET", `/accounts/${p.accountId}`, undefined, token);
    expect(admin.status).toBe(401);
    expect((await errorOf(admin)).code).toBe("invalid_api_key");
    expect(TEST_ADMIN_TOKEN).not.toBe(token);
  });

  it("refuses a forged token offline: a well-formed body with a recomputed checksum for a made-up account", async () => {
    const p = await platform();
    const head = `limo_ct_${"A".repeat(43)}${"B".repeat(16)}`;
    const forged = head + checksum(head);
    const res = await p.a.withKey(forged, "/v1/models");
    expect(res.status).toBe(401);
    const tampered = await p.a.withKey(`${head}AAAAAA`, "/v1/models");
    expect(tampered.status).toBe(401);
  });

  it("opts routes in by name only", () => {
    expect(CLIENT_TOKEN_ROUTES).toEqual(["POST /v1/chat/completions", "POST /v1/completions", "POST /v1/responses", "POST /v1/answers/check", "GET /v1/models", "GET /v1/models/:id{.+}"]);
  });
});
