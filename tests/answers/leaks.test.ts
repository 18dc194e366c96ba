import { describe, expect, it } from "vitest";
import * as guard from "../../worker/answers/leak-guard";
import { DEFAULT_REDACTION, MAX_HELD_CHARS, stableLength } from "../../worker/answers/leak-guard";
import * as leaks from "../../worker/answers/leaks";
import { redactLeaks } from "../../worker/answers/leaks";
import { symbolicComparer } from "../../worker/answers/symbolic";

// The pure guard with its CAS injected (the main Worker's guard sends these probes to the checker Worker instead).
const findAnswerLeaks = (text: string, reference: string, options: leaks.LeakOptions = {}) => leaks.findAnswerLeaks(text, reference, { cas: symbolicComparer, ...options });
class LeakGuard extends guard.LeakGuard {
  constructor(reference: string, options: guard.LeakGuardOptions = {}) {
    super(reference, { cas: symbolicComparer, ...options });
  }
}

const HALF = "\\frac{1}{2}";

// The reference 1/2 written inside hints in many forms.
const LEAKING = [
  "Divide both sides by 2: you should get 0.5.",
  "Think about 1/2 of the pie.",
  "Think about 1 / 2 of the pie.",
  "The result is \\dfrac12 here.",
  "That is 50% of it.",
  "That is 50 percent of it.",
  "So x = 0.5 works.",
  "Finally \\boxed{\\frac{2}{4}}.",
  "A box of anything leaks: \\boxed{7}.",
  "It's one half.",
  "It's a half.",
  "We get $x = \\frac{2}{4}$, which simplifies.",
  "Note \\(\\tfrac{1}{2}\\) here.",
  "Note \\[ y = 0.50 \\] here.",
  "$\\frac{1}{\\sqrt{4}}$ is it.",
  "0.5 and more",
  "Use .5 for it",
];

// Hints that must pass untouched.
const CLEAN = [
  "Try dividing both sides of the equation by the coefficient of $x$.",
  "Consider the triangle $\\triangle ABC$ with $AB = 3$ and the angle $\\angle A$.",
  "Multiply by 2 and subtract 1 from both sides: $2x - 1 = 0$.",
  "Half of the work is setting it up; then 0.25 or 0.75 are not it either.",
  "What is $3 + 4$? Keep going!",
  "Write $\\frac{3}{4}$ as a decimal first.",
  "",
];

describe("findAnswerLeaks", { timeout: 60_000 }, () => {
  it.each(LEAKING)("finds the answer in %j", async (text) => {
    const leaks = await findAnswerLeaks(text, HALF);
    expect(leaks.length).toBeGreaterThan(0);
    expect(await findAnswerLeaks(redactLeaks(text, leaks, DEFAULT_REDACTION), HALF)).toEqual([]);
  });

  it.each(CLEAN)("lets %j pass untouched", async (text) => {
    expect(await findAnswerLeaks(text, HALF)).toEqual([]);
  });

  it("reports offsets, the matched text, and whether it is equal or only not ruled out", async () => {
    const text = "So x = 0.5 works.";
    expect(await findAnswerLeaks(text, HALF)).toEqual([{ start: 7, end: 10, text: "0.5", kind: "number", equivalent: true }]);
  });

  it("finds lists, tuples and numbers inside lists", async () => {
    expect((await findAnswerLeaks("The roots are 3, 5 and 7.", "3, 5, 7")).map((l) => l.text)).toEqual(["3, 5 and 7"]);
    expect((await findAnswerLeaks("The point (3, 1.5) lies on it.", "(3, \\frac{3}{2})")).map((l) => l.text)).toEqual(["(3, 1.5)"]);
    expect((await findAnswerLeaks("Use 2 and 12 and 1.", "12")).map((l) => l.text)).toEqual(["12"]);
  });

  it("finds symbolic equals of an expression", { timeout: 60_000 }, async () => {
    expect((await findAnswerLeaks("Expand $(x+1)^2$ first.", "x^2+2x+1")).map((l) => l.kind)).toEqual(["math"]);
    expect(await findAnswerLeaks("Start from $x^2 + 1$.", "x^2+2x+1")).toEqual([]);
  });

  it("withholds what it cannot rule out: with no budget every number is a leak", async () => {
    const leaks = await findAnswerLeaks("Try 7 apples.", HALF, { workUnits: 0 });
    expect(leaks).toEqual([{ start: 4, end: 5, text: "7", kind: "number", equivalent: null }]);
  });
});

/** Feeds `text` in chunks of the given sizes (cycled) and returns what the guard released. */
async function stream(text: string, sizes: number[], reference = HALF): Promise<{ out: string; guard: LeakGuard; maxHeld: number }> {
  const guard = new LeakGuard(reference);
  let out = "";
  let maxHeld = 0;
  for (let i = 0, k = 0; i < text.length; k++) {
    const n = sizes[k % sizes.length] as number;
    out += await guard.push(text.slice(i, i + n));
    maxHeld = Math.max(maxHeld, guard.held);
    i += n;
  }
  out += await guard.end();
  return { out, guard, maxHeld };
}

describe("LeakGuard", { timeout: 60_000 }, () => {
  const story = LEAKING.join(" ") + " " + CLEAN.join(" ");

  it.each([[[1]], [[2, 3, 5]], [[7, 1, 13]], [[64]]])("never releases the answer, streamed in chunks of %j", async (sizes) => {
    const { out, guard } = await stream(story, sizes);
    expect(await findAnswerLeaks(out, HALF)).toEqual([]);
    expect(guard.leaks.length).toBeGreaterThanOrEqual(LEAKING.length);
    for (const l of guard.leaks) expect(story.slice(l.start, l.end)).toBe(l.text);
  });

  it("releases clean text unchanged and holds back only a short tail", async () => {
    const text = CLEAN.join(" ");
    const { out, maxHeld } = await stream(text, [3]);
    expect(out).toBe(text);
    expect(maxHeld).toBeLessThan(120);
  });

  it("holds an open formula until it closes, then redacts it whole", async () => {
    const guard = new LeakGuard(HALF);
    expect(await guard.push("We get $x = \\frac{1}{")).toBe("We get ");
    expect(guard.held).toBe("$x = \\frac{1}{".length);
    expect(await guard.push("2}$ and so on ")).toBe(`${DEFAULT_REDACTION} and so on `);
  });

  it("holds a number that may still grow: 0. then 5", async () => {
    const guard = new LeakGuard(HALF);
    expect(await guard.push("It is 0.")).toBe("It is ");
    expect(guard.held).toBe(2);
    expect(await guard.push("5 exactly. ")).toBe(`${DEFAULT_REDACTION} exactly. `);
    expect(await guard.push("one ")).toBe("");
    expect(await guard.push("half, ok")).toBe(`${DEFAULT_REDACTION}, `);
    expect(await guard.end()).toBe("ok");
  });

  it("holds number words behind an opening bracket: (fifty percent) is one leak, not two clean halves", async () => {
    const guard = new LeakGuard(HALF);
    expect(await guard.push("(fifty percent)")).toBe("");
    expect(await guard.end()).toBe(`(${DEFAULT_REDACTION})`);
    const quoted = new LeakGuard(HALF);
    expect((await quoted.push('She said "one half" twice. ')) + (await quoted.end())).toBe(`She said "${DEFAULT_REDACTION}" twice. `);
  });

  it("does not stall on a stray dollar: a held region is capped", () => {
    const text = "Costs $5 and " + "more words ".repeat(400);
    expect(text.length - stableLength(text)).toBeLessThanOrEqual(MAX_HELD_CHARS);
  });
});
