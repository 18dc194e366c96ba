import { afterEach, describe, expect, it, vi } from "vitest";
import { adminApi, TEST_ADMIN_TOKEN } from "../helpers/admin";
import { errorOf } from "../helpers/api";
import { timingSafeEqualStrings } from "../../worker/accounts/auth-service";

/** Every admin operation, with a body where it takes one. */
const ROUTES: [method: string, path: string, body?: unknown][] = [
  ["POST", "/accounts", { name: "x" }],
  ["GET", "/accounts"],
  ["GET", "/accounts/acct_0000000000000000"],
  ["PATCH", "/accounts/acct_0000000000000000", { status: "suspended" }],
  ["POST", "/accounts/acct_0000000000000000/keys", {}],
  ["GET", "/accounts/acct_0000000000000000/keys"],
  ["DELETE", "/keys/key_0000000000000000"],
  ["POST", "/keys/key_0000000000000000/rotate", {}],
];

afterEach(() => vi.restoreAllMocks());

describe("admin API without ADMIN_TOKEN configured", () => {
  const closed = adminApi({ ADMIN_TOKEN: undefined });

  it.each(ROUTES)("%s %s does not exist (404 as for any unknown path)", async (method, path, body) => {
    for (const token of [TEST_ADMIN_TOKEN, "", null]) {
      const res = await closed.admin(method, path, body, token);
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toMatchObject({ code: "not_found", message: `No route for ${method} /admin/v1${path}.` });
    }
  });

  it("leaves the admin API out of the OpenAPI document", async () => {
    const doc = (await (await closed.fetch("/openapi.json")).json()) as { paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } };
    expect(Object.keys(doc.paths).some((p) => p.startsWith("/admin"))).toBe(false);
    expect(doc.components.securitySchemes).not.toHaveProperty("AdminToken");
    expect(doc.paths).toHaveProperty("/v1/chat/completions");
  });
});

describe("admin API with ADMIN_TOKEN configured", () => {
  const a = adminApi();

  it.each(ROUTES)("%s %s refuses a missing or wrong token with 401, echoing nothing", async (method, path, body) => {
    const wrong = [null, "", "wrong", TEST_ADMIN_TOKEN.slice(0, -1), `${TEST_ADMIN_TOKEN}x`, TEST_ADMIN_TOKEN.toUpperCase()];
    for (const token of wrong) {
      const res = await a.admin(method, path, body, token);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const text = await res.text();
      expect(JSON.parse(text).error.code).toBe("invalid_api_key");
      expect(text).not.toContain(TEST_ADMIN_TOKEN.slice(0, 16));
    }
  });

  it("does not accept the token in another scheme or a dev API key in its place", async () => {
    const basic = await a.fetch("/admin/v1/accounts", { headers: { authorization: `Basic ${TEST_ADMIN_TOKEN}` } });
    expect(basic.status).toBe(401);
    const devKey = await a.admin("GET", "/accounts", undefined, a.env.DEV_API_KEY!);
    expect(devKey.status).toBe(401);
  });

  it("compares the token in constant time, whatever its length", async () => {
    const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
    for (const token of ["x", TEST_ADMIN_TOKEN.slice(0, 5), `${TEST_ADMIN_TOKEN}${"y".repeat(200)}`]) {
      expect((await a.admin("GET", "/accounts", undefined, token)).status).toBe(401);
    }
    // A missing token is compared too, so it costs what a wrong one does.
    expect((await a.admin("GET", "/accounts", undefined, null)).status).toBe(401);
    expect(spy).toHaveBeenCalledTimes(4);
    for (const [x, y] of spy.mock.calls) {
      // Digests of equal length: the lengths of the secrets never short-circuit the comparison.
      expect((x as ArrayBuffer).byteLength).toBe(32);
      expect((y as ArrayBuffer).byteLength).toBe(32);
    }
  });
});

describe("timingSafeEqualStrings", () => {
  it.each([
    ["equal strings", "limo_admin_abc", "limo_admin_abc", true],
    ["a different last character", "limo_admin_abc", "limo_admin_abd", false],
    ["a prefix", "limo_admin_abc", "limo_admin_ab", false],
    ["a longer string", "limo_admin_abc", "limo_admin_abcd", false],
    ["empty and non-empty", "", "x", false],
    ["two empty strings", "", "", true],
  ])("compares %s", async (_name, x, y, expected) => {
    expect(await timingSafeEqualStrings(x, y)).toBe(expected);
  });

  it("hashes both sides first, so unequal lengths still reach a full comparison", async () => {
    const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
    await timingSafeEqualStrings("short", "a much longer string than the other one");
    expect(spy).toHaveBeenCalledOnce();
  });
});
