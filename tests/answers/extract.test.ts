import { describe, expect, it } from "vitest";
import math500 from "../../data/limo-eval/math500.jsonl?raw";
import aime24 from "../../data/limo-eval/aime24.jsonl?raw";
import { extractAnswer, lastBoxedAnswer, MAX_FREE_TEXT_CHARS } from "../../worker/answers/extract";

interface MathRecord {
  solution: string;
  answer: string;
  unique_id: string;
}
const records = math500.trim().split("\n").map((l) => JSON.parse(l) as MathRecord);

describe("extraction on MATH500 reference solutions", () => {
  it("reads the 500 records", () => {
    expect(records).toHaveLength(500);
  });

  // "Gives" means the identical string: no normalisation on either side.
  it("lastBoxedAnswer gives each record's answer, identical, 500/500", () => {
    const wrong = records.filter((r) => lastBoxedAnswer(r.solution) !== r.answer).map((r) => r.unique_id);
    expect(wrong).toEqual([]);
  });

  it("extractAnswer (LIMO's full rule) gives each record's answer, identical, 500/500", () => {
    const wrong = records.filter((r) => extractAnswer(r.solution) !== r.answer).map((r) => r.unique_id);
    expect(wrong).toEqual([]);
  });

  it("a solution cut before its box closes, or cut before its box, has no answer", () => {
    for (const r of records.slice(0, 100)) {
      const at = r.solution.lastIndexOf("\\boxed");
      expect(lastBoxedAnswer(r.solution.slice(0, at + 8))).toBeNull();
      expect(extractAnswer(r.solution.slice(0, at + 8))).toBeNull();
      const before = r.solution.slice(0, at);
      if (!/\\boxed|\\fbox/.test(before) && before.length > MAX_FREE_TEXT_CHARS && !/answer\s*(is|:|=)/i.test(before)) {
        expect(extractAnswer(before)).toBeNull();
      }
    }
  });

  it("AIME24 solutions with a box give a box", () => {
    const withBox = aime24.trim().split("\n").map((l) => JSON.parse(l) as { solution: string }).filter((r) => r.solution.includes("\\boxed{"));
    expect(withBox.length).toBeGreaterThan(0);
    for (const r of withBox) expect(lastBoxedAnswer(r.solution)).not.toBeNull();
  });
});

describe("lastBoxedAnswer", () => {
  it.each([
    ["so $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"],
    ["first \\boxed{1} then \\boxed{2}", "2"],
    ["nested \\boxed{\\{1, \\{2\\}\\}}", "\\{1, \\{2\\}\\}"],
    ["\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}"],
    ["spaced \\boxed {42}", "42"],
    ["no braces $\\boxed 5$.", "5"],
    ["no braces at the end \\boxed 7", "7"],
    ["\\fbox{x = 3}", "x = 3"],
    ["\\boxed{a} and later \\fbox{b}", "b"],
    ["\\boxed{\\boxed{9}}", "9"],
  ])("%s -> %s", (text, answer) => {
    expect(lastBoxedAnswer(text)).toBe(answer);
  });

  it.each([
    ["no box at all, the answer is 5", null],
    ["a cut box \\boxed{\\frac{1}{", null],
    ["an earlier box does not rescue a cut last one: \\boxed{1} ... \\boxed{2", null],
    ["an empty box \\boxed{}", null],
    ["\\boxedx is not a box", null],
  ])("%s -> null", (text, answer) => {
    expect(lastBoxedAnswer(text)).toBe(answer);
  });
});

describe("extractAnswer fallbacks", () => {
  it.each([
    ["I got 12 apples", "12"],
    ["x = 0.5", "x = 0.5"],
    ["I think it's 1/2.", "1/2"],
    ["The answer is $\\frac{3}{4}$.", "\\frac{3}{4}"],
    ["So the final answer is 17 because it works.", "17"],
    ["Final Answer: The final answer is $5$. I hope it is correct.", "5"],
    ["Answer: (B)", "(B)"],
    ["my answer is x = 1 or x = 2", "x = 1 or x = 2"],
    ["it is twelve", "12"],
    ["one half", "\\frac{1}{2}"],
    ["about -3.5 degrees", "-3.5"],
    ["\\frac{1}{2}", "\\frac{1}{2}"],
    ["We have \\boxed{7}. Then 8.", "7"],
    ["The total is 1,000 dollars", "1,000"],
    ["(3, \\pi/2)", "(3, \\pi/2)"],
  ])("%s -> %s", (text, answer) => {
    expect(extractAnswer(text)).toBe(answer);
  });

  it.each([["I don't know"], ["Let me think about the triangle first."], [""]])("%s -> null", (text) => {
    expect(extractAnswer(text)).toBeNull();
  });

  it("a long reasoning without a box or an answer phrase has no answer, whatever numbers it holds", () => {
    const reasoning = "Let x be the number of apples. Then 3x + 2 = 14, so ".repeat(10) + "we need to check 4";
    expect(reasoning.length).toBeGreaterThan(MAX_FREE_TEXT_CHARS);
    expect(extractAnswer(reasoning)).toBeNull();
  });
});
