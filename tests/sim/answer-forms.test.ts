/**
 * @module sim/answer-forms.test
 * The rewritten answers the oracle and the tutor hints use are what they
 * claim: every "equal" form of a numeric reference is the same number, every
 * "unequal" form a different one, checked by exact rational arithmetic over
 * every reference answer in the shipped data sets.
 */
import { describe, expect, it } from "vitest";
import { equivalentForms, unequalForm } from "../../gpu/sim/answer-forms";
import { buildProblemIndex, findProblem, oracleAnswer } from "../../gpu/sim/oracle";
import aime24 from "../../data/limo-eval/aime24.jsonl?raw";
import amc23 from "../../data/limo-eval/amc23.jsonl?raw";
import math500 from "../../data/limo-eval/math500.jsonl?raw";

const references = [math500, aime24, amc23].flatMap((raw) =>
  raw
    .split("\n")
    .filter(Boolean)
    .map((l) => String((JSON.parse(l) as { answer: string | number }).answer)),
);

/** A numeric form as an exact fraction [numerator, denominator], or null. */
function rational(form: string): [bigint, bigint] | null {
  const s = form.replace(/^x = /, "").trim();
  const sign = s.startsWith("-") ? -1n : 1n;
  const body = s.replace(/^-/, "");
  let m = /^(\d+)$/.exec(body);
  if (m) return [sign * BigInt(m[1]!), 1n];
  m = /^(\d*)\.(\d+)$/.exec(body);
  if (m) return [sign * BigInt(`${m[1] || "0"}${m[2]}`), 10n ** BigInt(m[2]!.length)];
  m = /^\\[dt]?frac\{(\d+)\}\{(\d+)\}$/.exec(body) ?? /^\\[dt]?frac(\d)(\d)$/.exec(body) ?? /^(\d+)\/(\d+)$/.exec(body);
  if (m) return [sign * BigInt(m[1]!), BigInt(m[2]!)];
  return null;
}
const same = (a: [bigint, bigint], b: [bigint, bigint]) => a[0] * b[1] === b[0] * a[1];

describe("equal and unequal forms", () => {
  it("rewrites the forms the issue names", () => {
    expect(equivalentForms("\\frac{1}{2}")).toEqual(expect.arrayContaining(["\\dfrac{1}{2}", "1/2", "0.5"]));
    expect(equivalentForms("12")).toEqual(["12.0", "x = 12"]);
    expect(equivalentForms("\\frac{1}{3}")).not.toContain("0.3333");
    expect(unequalForm("12")).toBe("13");
    expect(unequalForm("\\frac{1}{2}")).toBe("\\frac{3}{2}");
    expect(unequalForm("-\\frac{35}{9}")).toBe("-\\frac{26}{9}");
    expect(unequalForm("\\text{(C)}")).toBe("\\text{(D)}");
    expect(unequalForm("(6,31,-1)")).toBe("(7,31,-1)");
  });

  it("keeps every numeric reference's equal forms equal and its unequal form unequal, exactly", () => {
    let numeric = 0;
    for (const reference of references) {
      const value = rational(reference);
      const forms = equivalentForms(reference);
      expect(forms).not.toContain(reference);
      expect(unequalForm(reference)).not.toBe(reference);
      if (value === null) {
        // Not a plain number: only the typographic \frac -> \dfrac rewrite is allowed.
        for (const f of forms) expect(f.replace("\\dfrac{", "\\frac{")).toBe(reference.trim());
        continue;
      }
      numeric++;
      for (const f of forms) expect(same(rational(f)!, value), `${f} = ${reference}`).toBe(true);
      expect(same(rational(unequalForm(reference))!, value), `${unequalForm(reference)} != ${reference}`).toBe(false);
    }
    expect(numeric).toBeGreaterThan(400);
  });
});

describe("the problem index", () => {
  const index = buildProblemIndex([
    { dataset: "t", id: "1", reference: "7", problem: "What is  3 +\n4?" },
    { dataset: "t", id: "2", reference: "12", problem: "Find the product of 3 and 4, then say what is 3 + 4?" },
  ]);

  it("finds a problem by its text whatever the whitespace, or quoted in a longer prompt (the longest match)", () => {
    expect(findProblem(index, "What is 3 + 4?")?.id).toBe("1");
    expect(findProblem(index, "user: Find the product of 3 and 4, then say what is 3 + 4? Thanks")?.id).toBe("2");
    expect(findProblem(index, "What is 3 + 5?")).toBeNull();
  });

  it("draws a verdict that is a pure function of seed, problem, choice and request seed", () => {
    const problem = findProblem(index, "What is 3 + 4?")!;
    const draw = (seed: number, choice: number, requestSeed: number | null) => oracleAnswer({ accuracy: 0.5, seed }, problem, choice, requestSeed);
    expect(draw(1, 0, null)).toEqual(draw(1, 0, null));
    const verdicts = Array.from({ length: 40 }, (_, i) => draw(1, i, null).correct);
    expect(verdicts.some(Boolean) && !verdicts.every(Boolean)).toBe(true);
    for (let i = 0; i < 40; i++) {
      const { answer, correct } = draw(2, i, 5);
      expect(correct ? ["7", ...equivalentForms("7")] : ["8"]).toContain(answer);
    }
  });
});
