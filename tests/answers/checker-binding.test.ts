/**
 * The CAS lives in the checker Worker (checker/, `limo-checker`), which the
 * workers pool runs as an auxiliary Worker behind the real `CHECKER` service
 * binding, as in production. The main Worker has no CAS in its module graph
 * (lint:deps `cas-outside-the-worker`), so a `symbolic` verdict from the route
 * can only have come through the binding. With no binding, or a checker that
 * fails (`CHECKER_DOWN`: a Worker that answers no RPC), the pairs that need
 * the CAS are null with a reason, never a guess and never a 500; the rest is
 * decided locally as before.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CAS_UNAVAILABLE } from "../../worker/answers/cas";
import { checkAnswers, DEFAULT_BATCH_WORK_UNITS, WorkBudget } from "../../worker/answers/check";
import { remoteCas, type CheckerRpc } from "../../worker/answers/checker-rpc";
import { MAX_REMOTE_PAIRS } from "../../worker/answers/remote-cas";
import { voteOnAnswers } from "../../worker/answers/vote";
import { findAnswerLeaks } from "../../worker/answers/leaks";
import { limitedAccount } from "../helpers/limits";
import { captureLogs } from "../helpers/logs";
import { checkWith } from "./check-route.helpers";
import { PROBLEM, tutorAccount, type TutorAnswer } from "../tutoring/tutor-helpers";
import { checkPairsWithCas } from "../../checker/pipeline";

/** The binding to a Worker that answers no RPC (vitest.config.ts), as a checker that is down. */
const CHECKER_DOWN = (env as unknown as { CHECKER_DOWN: Service<CheckerRpc> }).CHECKER_DOWN;

interface Result {
  candidate: string;
  equivalent: boolean | null;
  method: string;
  reason: string;
}

afterEach(() => vi.restoreAllMocks());

describe("the CAS through the CHECKER service binding", { timeout: 60_000 }, () => {
  it("decides the route's symbolic cases in the checker Worker, and the rest in the main Worker", async () => {
    const acct = await limitedAccount();
    const sqrt = (await (await checkWith(acct.a, acct.key, { reference: "2\\sqrt{2}", candidates: ["\\sqrt{8}", "\\sqrt{6}", "0.5"] })).json()) as { results: Result[] };
    expect(sqrt.results.map((r) => [r.equivalent, r.method])).toEqual([
      [true, "symbolic"],
      // Read as numbers to 80 digits by the CAS, then compared as numbers.
      [false, "numeric"],
      [false, "numeric"],
    ]);
    const square = (await (await checkWith(acct.a, acct.key, { reference: "(x+1)^2", candidates: ["x^2+2x+1", "x^2+1", "(1+x)^2"] })).json()) as { results: Result[] };
    expect(square.results.map((r) => [r.equivalent, r.method])).toEqual([
      [true, "symbolic"],
      [false, "symbolic"],
      [true, "symbolic"],
    ]);
    // Strings and numbers never leave the main Worker.
    const numeric = (await (await checkWith(acct.a, acct.key, { reference: "\\frac{1}{2}", candidates: ["0.5", "2"] })).json()) as { results: Result[] };
    expect(numeric.results.map((r) => r.method)).toEqual(["numeric", "numeric"]);
  });

  it("sends only the pairs that need the CAS, all in one call", async () => {
    const calls: number[] = [];
    const real = remoteCas(env.CHECKER);
    const counted = { ...real, checkPairs: (pairs: Parameters<typeof real.checkPairs>[0], units: number) => (calls.push(pairs.length), real.checkPairs(pairs, units)) };
    const results = await checkAnswers("2\\sqrt{2}", ["\\sqrt{8}", "2 \\sqrt 2", "(1, 2)", "\\sqrt{2}\\cdot 2", "x = 2\\sqrt{2}"], { remote: counted });
    expect(results.map((r) => [r.equivalent, r.method])).toEqual([
      [true, "symbolic"],
      [true, "normalized"],
      [false, "tuple"],
      [true, "symbolic"],
      [true, "normalized"],
    ]);
    // The same text after normalisation and a tuple against a value are decided here: two pairs travel, in one call.
    expect(calls).toEqual([2]);
  });

  it("answers null with a reason, and logs, when the checker Worker fails or the binding is absent", async () => {
    for (const binding of [CHECKER_DOWN, undefined]) {
      let results: Awaited<ReturnType<typeof checkAnswers>> = [];
      const logs = await captureLogs(async () => {
        results = await checkAnswers("2\\sqrt{2}", ["\\sqrt{8}", "\\sqrt{6}", "2", "2\\sqrt{2}"], { remote: remoteCas(binding, "req_down") });
      });
      expect(results.map((r) => [r.equivalent, r.reason])).toEqual([
        [null, CAS_UNAVAILABLE],
        [null, CAS_UNAVAILABLE],
        // Decided without the CAS: a number against an irrational constant is left to it, but identical text is not.
        [null, CAS_UNAVAILABLE],
        [true, "identical"],
      ]);
      expect(logs).toContain("answer checker:");
      expect(logs).toContain("req_down");
    }
  });

  it("keeps the vote exact through the binding, and never merges on a failed checker", async () => {
    const answers = ["2\\sqrt{2}", "\\sqrt{8}", "(x+1)^2", "x^2+2x+1", "\\sqrt{8}", null];
    const vote = await voteOnAnswers(answers, { remote: remoteCas(env.CHECKER) });
    expect(vote.groups.map((g) => g.choices)).toEqual([[0, 1, 4], [2, 3]]);
    expect([vote.answer, vote.count, vote.of]).toEqual(["2\\sqrt{2}", 3, 6]);
    const down = await captureLogs(async () => {
      const local = await voteOnAnswers(answers, { remote: remoteCas(CHECKER_DOWN) });
      // Only the equal strings (after normalisation) group; nothing merges on an undecided comparison.
      expect(local.groups.map((g) => g.choices)).toEqual([[1, 4], [0], [2], [3]]);
    });
    expect(down).toContain("answer checker:");
  });

  it("lets the tutor guard rule a fragment out through the binding, and withholds it when the checker fails", async () => {
    const text = "Compare it with $\\sqrt{6}$ first.";
    expect(await findAnswerLeaks(text, "2\\sqrt{2}", { remote: remoteCas(env.CHECKER) })).toEqual([]);
    const withheld = await captureLogs(async () => {
      const leaks = await findAnswerLeaks(text, "2\\sqrt{2}", { remote: remoteCas(CHECKER_DOWN) });
      expect(leaks.map((l) => [l.text, l.equivalent])).toEqual([["$\\sqrt{6}$", null]]);
    });
    expect(withheld).toContain("answer checker:");
  });

  it("groups symbolic equals in a vote through the whole stack: the direct JSON path and a stream's generation object", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ final_answers: ["2\\sqrt{2}", "\\sqrt{8}", "3"], tokens_per_second: 2000 });
    // The prompt and length of final-answer-vote.happy.test.ts, whose answers all end in their box.
    const question = { messages: [{ role: "user", content: "What is one half as a number?" }], max_tokens: 400, n: 3, vote: true };
    const expected = { answer: "2\\sqrt{2}", count: 2, of: 3, groups: [{ answer: "2\\sqrt{2}", count: 2, choices: [0, 1] }, { answer: "3", count: 1, choices: [2] }] };
    const json = (await (await acct.chat(question)).json()) as { vote: unknown };
    expect(json.vote).toMatchObject(expected);
    const stream = await (await acct.chat({ ...question, stream: true })).text();
    const voteChunk = stream.split("\n\n").filter((e) => e.startsWith("data: {") && e.includes('"vote"')).map((e) => JSON.parse(e.slice(6)) as { vote: unknown });
    expect(voteChunk).toHaveLength(1);
    expect(voteChunk[0]!.vote).toMatchObject(expected);
  });

  it("decides a tutor check of a student's answer written another way through the binding", async () => {
    const t = await tutorAccount(["2\\sqrt{2}"], 0);
    const ask = (answer: string) => ({
      messages: [
        { role: "user", content: PROBLEM },
        { role: "assistant", content: "What do you think?" },
        { role: "user", content: answer },
      ],
      tutor: { mode: "check", reference_answer: "2\\sqrt{2}" },
    });
    const right = (await (await t.chat(ask("I got $\\sqrt{8}$"))).json()) as TutorAnswer;
    expect(right.tutor).toMatchObject({ mode: "check", correct: true });
    const wrong = (await (await t.chat(ask("I got $\\sqrt{6}$"))).json()) as TutorAnswer;
    expect(wrong.tutor).toMatchObject({ mode: "check", correct: false });
  });

  it("enforces the budget and the bounds on the checker's side", async () => {
    const pair = { reference: "(x+1)^2", candidate: "x^2+2x+1" };
    // A caller cannot buy more than one batch's worth of work, and none buys none.
    const starved = await env.CHECKER!.checkPairs([pair], 0);
    expect(starved.results[0]).toMatchObject({ equivalent: null, reason: "work budget spent" });
    const greedy = await env.CHECKER!.checkPairs(Array.from({ length: 200 }, (_, i) => ({ reference: `(x+${i})^3`, candidate: `x^3+${3 * i}x^2+${3 * i * i}x+${i ** 3}` })), 1e12);
    expect(greedy.workUnitsSpent).toBeLessThanOrEqual(DEFAULT_BATCH_WORK_UNITS);
    expect(greedy.results.some((r) => r.reason === "work budget spent")).toBe(true);
    await expect(checkPairsWithCas(new Array(MAX_REMOTE_PAIRS + 1).fill(pair), 1000)).rejects.toThrow(/at most/);
    // Its spending is charged to the caller's shared budget.
    const budget = new WorkBudget(DEFAULT_BATCH_WORK_UNITS);
    await checkAnswers("(x+1)^2", ["x^2+2x+1"], { remote: remoteCas(env.CHECKER), budget });
    expect(budget.spent).toBeGreaterThan(1_500);
  });
});
