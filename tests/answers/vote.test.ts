import { describe, expect, it } from "vitest";
import { symbolicComparer } from "../../worker/answers/symbolic";
import * as voting from "../../worker/answers/vote";

const voteOnAnswers = (answers: readonly (string | null)[], options: voting.VoteOptions = {}) => voting.voteOnAnswers(answers, { cas: symbolicComparer, ...options });

describe("voteOnAnswers", () => {
  it("groups differently written equal answers and counts choices without an answer in no group", async () => {
    const vote = await voteOnAnswers(["\\frac{1}{2}", "0.5", "3", null, "1/2", "\\dfrac12", "3", "0.25"]);
    expect(vote).toEqual({
      answer: "\\frac{1}{2}",
      count: 4,
      of: 8,
      agreement: 0.5,
      groups: [
        { answer: "\\frac{1}{2}", count: 4, choices: [0, 1, 4, 5] },
        { answer: "3", count: 2, choices: [2, 6] },
        { answer: "0.25", count: 1, choices: [7] },
      ],
    });
  });

  it("orders ties by first index and takes the first member as the representative", async () => {
    const vote = await voteOnAnswers(["7", "x = 2", "2", "7"]);
    expect(vote.groups).toEqual([
      { answer: "7", count: 2, choices: [0, 3] },
      { answer: "x = 2", count: 2, choices: [1, 2] },
    ]);
    expect(vote.answer).toBe("7");
    expect(vote.agreement).toBe(0.5);
  });

  it("groups symbolic equals through the CAS", { timeout: 60_000 }, async () => {
    const vote = await voteOnAnswers(["2\\sqrt{2}", "\\sqrt{8}", "(x+1)^2", "x^2+2x+1", "\\sqrt{8}"]);
    expect(vote.groups.map((g) => g.choices)).toEqual([[0, 1, 4], [2, 3]]);
  });

  it("never merges on uncertainty: without the CAS, symbolic equals stay apart", async () => {
    const vote = await voteOnAnswers(["2\\sqrt{2}", "\\sqrt{8}"], { cas: null });
    expect(vote.groups).toHaveLength(2);
    expect(vote.count).toBe(1);
  });

  it("answers null with no group when no choice has a final answer", async () => {
    expect(await voteOnAnswers([null, null, ""])).toEqual({ answer: null, count: 0, of: 3, agreement: 0, groups: [] });
    expect(await voteOnAnswers([])).toEqual({ answer: null, count: 0, of: 0, agreement: 0, groups: [] });
  });

  it("keeps answers apart once the shared budget is spent (null is never a merge)", async () => {
    const vote = await voteOnAnswers(["0.5", "\\frac{1}{2}", "1/2"], { workUnits: 1 });
    expect(vote.groups.map((g) => g.count)).toEqual([1, 1, 1]);
  });
});
