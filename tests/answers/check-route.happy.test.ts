/**
 * `POST /v1/answers/check` through the Worker and the account object: the
 * issue's example, extraction, a 64-candidate batch, rate-limit headers and
 * the one zero-token ledger record per call.
 */
import { describe, expect, it } from "vitest";
import { ANSWER_CHECK_MODEL, MAX_ANSWER_CHARS as SHARED_MAX_CHARS, MAX_CHECK_CANDIDATES as SHARED_MAX_CANDIDATES } from "../../shared/answers";
import { MAX_ANSWER_CHARS, MAX_CHECK_CANDIDATES } from "../../worker/answers/check";
import { limitedAccount } from "../helpers/limits";
import { checkWith } from "./check-route.helpers";

interface Result {
  candidate: string;
  equivalent: boolean | null;
  method: string;
  reason: string;
  extracted?: string | null;
}

// The first symbolic check loads the CAS (a dynamic import: seconds under vitest's module runner).
describe("POST /v1/answers/check", { timeout: 60_000 }, () => {
  it("answers the issue's example: 0.5, 1/2 and x = 0.5 equal \\frac{1}{2}, 2 does not", async () => {
    const acct = await limitedAccount({ requests_per_minute: 100 });
    const res = await checkWith(acct.a, acct.key, { reference: "\\frac{1}{2}", candidates: ["0.5", "1/2", "x = 0.5", "2"], extract: false });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe("100");
    const body = (await res.json()) as { object: string; results: Result[] };
    expect(body.object).toBe("answer.check");
    expect(body.results.map((r) => [r.candidate, r.equivalent])).toEqual([["0.5", true], ["1/2", true], ["x = 0.5", true], ["2", false]]);
    expect(body.results[0]!.method).toBe("numeric");
    for (const r of body.results) expect(r.reason.length).toBeGreaterThan(0);
    // One zero-token record for the call, naming what it was.
    const ledger = await acct.settledLedger(1);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ model: ANSWER_CHECK_MODEL, prompt_tokens: 0, completion_tokens: 0, status: "ok", cost_micro_usd: 0, cached: false });
  });

  it("extracts a student's free text and a whole solution first; symbolic equality goes through the CAS in workerd", async () => {
    const acct = await limitedAccount();
    const res = await checkWith(acct.a, acct.key, {
      reference: "12",
      candidates: ["I got 12 apples", "So the total is $\\boxed{12}$.", "I think it is 13", "no idea"],
      extract: true,
    });
    const { results } = (await res.json()) as { results: Result[] };
    expect(results.map((r) => [r.extracted, r.equivalent])).toEqual([["12", true], ["12", true], ["13", false], [null, null]]);
    const symbolic = (await (await checkWith(acct.a, acct.key, { reference: "2\\sqrt{2}", candidates: ["\\sqrt{8}", "(x+1)^2"] })).json()) as { results: Result[] };
    expect(symbolic.results[0]).toMatchObject({ equivalent: true, method: "symbolic" });
    expect(symbolic.results[1]!.equivalent).not.toBe(true);
  });

  it("checks a batch of 64 candidates in one call, in order, within one budget", async () => {
    const acct = await limitedAccount();
    const candidates = Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? `${i}/${2 * i || 1}` : String(i)));
    const res = await checkWith(acct.a, acct.key, { reference: "0.5", candidates });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: Result[] };
    expect(results.map((r) => r.candidate)).toEqual(candidates);
    // i/(2i) is one half for every even i but 0 (0/1); every odd i is a whole number, not one half.
    results.forEach((r, i) => expect(r.equivalent, candidates[i]).toBe(i % 2 === 0 && i > 0));
    await acct.settledLedger(1);
  });

  it("keeps the route's limits in one place: shared/answers.ts agrees with the checker", () => {
    expect(SHARED_MAX_CANDIDATES).toBe(MAX_CHECK_CANDIDATES);
    expect(SHARED_MAX_CHARS).toBe(MAX_ANSWER_CHARS);
  });
});
