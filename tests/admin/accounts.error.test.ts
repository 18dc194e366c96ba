import { describe, expect, it } from "vitest";
import { adminApi } from "../helpers/admin";
import { errorOf } from "../helpers/api";

describe("admin: account errors", () => {
  const a = adminApi();

  it.each([
    ["a missing name", {}, "missing_required_parameter", "name"],
    ["an empty name", { name: "  " }, "invalid_value", "name"],
    ["an unknown field", { name: "x", owner: "me" }, "unknown_parameter", "owner"],
    ["a wrongly typed name", { name: 3 }, "invalid_type", "name"],
    ["a plan that is not a slug", { name: "x", plan: "Pro Plan!" }, "invalid_value", "plan"],
  ])("refuses to create with %s (400 naming it)", async (_name, body, code, param) => {
    const res = await a.admin("POST", "/accounts", body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ type: "invalid_request_error", code, param });
  });

  it.each([["not JSON", "{name:"], ["empty", ""], ["an array", "[]"]])("refuses a body that is %s with a 400 envelope", async (_name, body) => {
    const res = await a.admin("POST", "/accounts", body);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).type).toBe("invalid_request_error");
  });

  it("answers 404 for an unknown account, on GET and PATCH", async () => {
    for (const method of ["GET", "PATCH"]) {
      const res = await a.admin(method, "/accounts/acct_0000000000000000", method === "PATCH" ? { name: "x" } : undefined);
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toMatchObject({ code: "not_found" });
    }
  });

  it.each([
    ["an unknown status", { status: "deleted" }, "invalid_value", "status"],
    ["a zero limit", { limits: { requests_per_minute: 0 } }, "invalid_value", "limits.requests_per_minute"],
    ["a negative limit", { limits: { max_concurrent_requests: -1 } }, "invalid_value", "limits.max_concurrent_requests"],
    ["a fractional limit", { limits: { tokens_per_minute: 1.5 } }, "invalid_type", "limits.tokens_per_minute"],
    ["a string limit", { limits: { monthly_token_quota: "lots" } }, "invalid_type", "limits.monthly_token_quota"],
    ["an unknown limit", { limits: { requests_per_day: 5 } }, "unknown_parameter", "limits.requests_per_day"],
  ])("refuses to update with %s", async (_name, body, code, param) => {
    const { id } = await a.createAccount();
    const res = await a.admin("PATCH", `/accounts/${id}`, body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code, param });
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=abc", "limit"],
    ["after=acct_doesnotexist0000", "after"],
  ])("refuses a list query %s with a 400 naming it", async (query, param) => {
    const res = await a.admin("GET", `/accounts?${query}`);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ type: "invalid_request_error", param });
  });

  it("answers a wrong method with 405 and an unknown admin path with 404", async () => {
    const res = await a.admin("PUT", "/accounts", { name: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("POST");
    expect((await a.admin("GET", "/nope")).status).toBe(404);
  });
});
