import { describe, expect, it } from "vitest";
import { errorOf } from "../helpers/api";
import { platform } from "../helpers/platform";

describe("end users refused", () => {
  it("a safety_identifier longer than 64 characters is a 400 that costs nothing", async () => {
    const p = await platform({ requests_per_minute: 1 });
    const res = await p.chat({ safety_identifier: "s".repeat(65), max_tokens: 2 });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).param).toBe("safety_identifier");
    expect(await p.ledger()).toHaveLength(0);
  });

  it("a long legacy user is no end user: require_end_user refuses it, naming safety_identifier", async () => {
    const p = await platform({}, { require_end_user: true });
    const res = await p.chat({ user: "u".repeat(65), max_tokens: 2 });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "missing_required_parameter", param: "safety_identifier" });
    expect((await p.chat({ user: "u".repeat(64), max_tokens: 2 })).status).toBe(200);
  });

  it("a request too large for a student's day is refused at once, not retried", async () => {
    const p = await platform({ tokens_per_day: 100 });
    const res = await p.student("ada", { max_tokens: 500 });
    expect(res.status).toBe(429);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(await errorOf(res)).toMatchObject({ code: "end_user_quota_exceeded", type: "insufficient_quota" });
    expect(await p.ledger()).toHaveLength(0);
  });

  it("invalid per-end-user limits are a 400 naming the field", async () => {
    const p = await platform();
    for (const [body, param] of [
      [{ end_user_limits: { tokens_per_day: 0 } }, "end_user_limits.tokens_per_day"],
      [{ end_user_limits: { requests_per_hour: 5 } }, "end_user_limits"],
      [{ require_end_user: "yes" }, "require_end_user"],
    ] as const) {
      const res = await p.a.admin("PATCH", `/accounts/${p.accountId}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await errorOf(res)).param).toContain(param);
    }
  });
});
