import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as checker from "../../worker/answers/check";
import { MAX_ANSWER_CHARS, MAX_CHECK_CANDIDATES, WorkBudget, type CheckOptions } from "../../worker/answers/check";
import { symbolicComparer } from "../../worker/answers/symbolic";

// The pure checker with its CAS injected, as the checker Worker runs it (checker-binding.test.ts covers the main Worker's split).
const checkAnswer = (reference: string, candidate: string, options: CheckOptions = {}) => checker.checkAnswer(reference, candidate, { cas: symbolicComparer, ...options });
const checkAnswers = (reference: string, candidates: readonly string[], options: CheckOptions = {}) => checker.checkAnswers(reference, candidates, { cas: symbolicComparer, ...options });

describe("checkAnswer", { timeout: 60_000 }, () => {
  it("answers the issue's example", async () => {
    const results = await checkAnswers("\\frac{1}{2}", ["0.5", "1/2", "x = 0.5", "2"]);
    expect(results.map((r) => [r.equivalent, r.method])).toEqual([
      [true, "numeric"],
      [true, "numeric"],
      [true, "numeric"],
      [false, "numeric"],
    ]);
    expect(results[0]?.normalized).toEqual({ reference: "\\frac{1}{2}", candidate: "0.5" });
  });

  it("extracts the final answer first when asked", async () => {
    const [solution, free, none] = await checkAnswers("12", ["Adding up, we get $\\boxed{12}$.", "I got 12 apples", "I'm not sure"], { extract: true });
    expect([solution?.equivalent, solution?.extracted]).toEqual([true, "12"]);
    expect([free?.equivalent, free?.extracted]).toEqual([true, "12"]);
    expect([none?.equivalent, none?.extracted]).toEqual([null, null]);
  });

  it("decides symbolic equality in workerd through the injected CAS", async () => {
    expect((await checkAnswer("2\\sqrt{2}", "\\sqrt{8}")).equivalent).toBe(true);
    expect((await checkAnswer("(x+1)^2", "x^2+2x+1")).method).toBe("symbolic");
    expect((await checkAnswer("(x+1)^2", "x^2+1")).equivalent).toBe(false);
  });

  it("says null, never a guess, without the CAS or past its budget", async () => {
    expect(await checkAnswer("2\\sqrt{2}", "\\sqrt{8}", { cas: null })).toMatchObject({ equivalent: null, method: "undecided" });
    expect(await checkAnswer("2\\sqrt{2}", "\\sqrt{8}", { workUnits: 100 })).toMatchObject({ equivalent: null, reason: "work budget spent" });
    // Strings and numbers stay cheap enough for a tiny budget.
    expect((await checkAnswer("\\frac{1}{2}", "0.5", { workUnits: 100 })).equivalent).toBe(true);
  });

  it("stops at an injected clock's limit as well", async () => {
    let now = 0;
    const clock = { now: () => (now += 10), limitMs: 15 };
    expect((await checkAnswer("(x+1)^2", "x^2+2x+1", { clock })).equivalent).toBeNull();
  });

  it("shares one budget over a batch: once spent, the rest are undecided", async () => {
    const budget = new WorkBudget(3_000);
    const results = await checkAnswers("\\sqrt{2}", ["\\frac{2}{\\sqrt{2}}", "\\sqrt{2}\\cdot 1", "2^{1/2}"], { budget });
    expect(results.some((r) => r.equivalent === null)).toBe(true);
    expect(budget.exhausted).toBe(true);
  });

  it("declines a factorial too large to evaluate instead of hanging", async () => {
    expect((await checkAnswer("100000!", "100001!")).equivalent).toBeNull();
  });

  it("enforces the route's limits as constants", async () => {
    expect(MAX_CHECK_CANDIDATES).toBe(64);
    expect(MAX_ANSWER_CHARS).toBe(4096);
    await expect(checkAnswers("1", new Array<string>(65).fill("1"))).rejects.toThrow(RangeError);
    expect(await checkAnswer("1", "1".repeat(MAX_ANSWER_CHARS + 1))).toMatchObject({ equivalent: null, reason: "answer too long" });
  });

  it("never calls two different integers or fractions equal", async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 6n }), fc.bigInt({ min: 1n, max: 1000n }), async (n, d, delta) => {
        const a = `\\frac{${n}}{${d}}`;
        const b = `\\frac{${n + delta}}{${d}}`;
        expect((await checkAnswer(a, b)).equivalent).toBe(false);
        expect((await checkAnswer(String(n), String(n + delta))).equivalent).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it("calls an answer equal to itself however it is wrapped", async () => {
    for (const a of ["\\frac{3}{4}", "(1, 2)", "\\{1, 2\\}", "x^2 - 1", "\\text{(C)}", "[0, 1)"]) {
      for (const wrapped of [`$${a}$`, `\\boxed{${a}}`, ` ${a}. `, `\\(${a}\\)`]) expect((await checkAnswer(a, wrapped)).equivalent).toBe(true);
    }
  });
});
