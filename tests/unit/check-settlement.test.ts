import { describe, expect, it } from "vitest";
import { ANSWER_CHECK_MODEL } from "../../shared/answers";
import { checkSettlement, CHECKER_BACKEND } from "../../worker/accounts/ledger/settlement";

describe("checkSettlement (an answer check's one record)", () => {
  it("bills no tokens, names the check as its model, and keeps no Idempotency-Key answer", () => {
    const record = checkSettlement({ requestId: "r", keyId: "k", mode: "live", startedAt: 1_000 }, "ok", 1_250);
    expect(record).toEqual({
      requestId: "r", keyId: "k", endUser: null, model: ANSWER_CHECK_MODEL, endpoint: "answers.check", backend: CHECKER_BACKEND, mode: "live",
      promptTokens: 0, completionTokens: 0, cached: false, status: "ok", ttftMs: null, durationMs: 250, now: 1_250,
    });
    expect(checkSettlement({ requestId: "r", keyId: "k", mode: "test", startedAt: 0 }, "backend_error", 5).status).toBe("backend_error");
    // A client token's check is its end user's.
    expect(checkSettlement({ requestId: "r", keyId: "k", endUser: "student-1", mode: "live", startedAt: 0 }, "ok", 5).endUser).toBe("student-1");
  });
});
