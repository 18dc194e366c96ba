/**
 * `POST /v1/answers/check` refuses bad input with OpenAI's envelope, before
 * the account object is asked: no request counted, no ledger record.
 */
import { describe, expect, it } from "vitest";
import { errorOf } from "../helpers/api";
import { limitedAccount } from "../helpers/limits";
import { checkWith } from "./check-route.helpers";

describe("POST /v1/answers/check: bad input", () => {
  it("answers a 400 naming the parameter, and it costs nothing", async () => {
    const acct = await limitedAccount({ requests_per_minute: 1 });
    const cases: [unknown, string, string | null][] = [
      [{ candidates: ["1"] }, "missing_required_parameter", "reference"],
      [{ reference: "1" }, "missing_required_parameter", "candidates"],
      [{ reference: "1", candidates: [] }, "invalid_value", "candidates"],
      [{ reference: "1", candidates: Array.from({ length: 65 }, () => "1") }, "invalid_value", "candidates"],
      [{ reference: "x".repeat(4097), candidates: ["1"] }, "invalid_value", "reference"],
      [{ reference: "1", candidates: ["1", "y".repeat(4097)] }, "invalid_value", "candidates[1]"],
      [{ reference: 1, candidates: ["1"] }, "invalid_type", "reference"],
      [{ reference: "1", candidates: "1" }, "invalid_type", "candidates"],
      [{ reference: "1", candidates: [2] }, "invalid_type", "candidates[0]"],
      [{ reference: "1", candidates: ["1"], extract: "yes" }, "invalid_type", "extract"],
      [{ reference: "1", candidates: ["1"], budget: 5 }, "unknown_parameter", "budget"],
      ["[1, 2]", "invalid_request", null],
      ["{not json", "invalid_json", null],
    ];
    for (const [body, code, param] of cases) {
      const res = await checkWith(acct.a, acct.key, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(await errorOf(res)).toMatchObject({ type: "invalid_request_error", code, param });
    }
    // None of them was counted: the one request a minute is still there, and it is the only record.
    const ok = await checkWith(acct.a, acct.key, { reference: "1", candidates: ["1.0"] });
    expect(ok.status).toBe(200);
    expect(await acct.settledLedger(1)).toHaveLength(1);
  });

  it("answers 405 to GET", async () => {
    const acct = await limitedAccount();
    expect((await acct.a.withKey(acct.key, "/v1/answers/check")).status).toBe(405);
  });
});
