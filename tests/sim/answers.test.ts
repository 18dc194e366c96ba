/**
 * @module sim/answers.test
 * What the simulated LIMO answers, driven from outside through `/sim/config`:
 * `final_answers` fixes choice i's boxed answer (and the reasoning states it
 * first), `oracle` answers the shipped evaluation problems right with a set
 * probability and counts exactly what it sent, and a tutoring system prompt
 * gets a hint that leaks the answer at `hint_leak_rate`.
 */
import { describe, expect, it } from "vitest";
import { equivalentForms } from "../../gpu/sim/answer-forms";
import { createSimulator } from "../../gpu/sim/simulator";
import aime24 from "../../data/limo-eval/aime24.jsonl?raw";
import math500 from "../../data/limo-eval/math500.jsonl?raw";
import { newSim, readSseData, type SimHandle } from "../helpers/sim";

const JSON_HEADERS = { "content-type": "application/json" };
const LIMO_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}.";
const TUTOR_SYSTEM = "You are a patient math tutor. Give the student one hint for their next step, but do not reveal the final answer.";

function chat(sim: SimHandle, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${sim.url}/v1/chat/completions`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ model: "GAIR/LIMO", ...body }) });
}
const ask = (content: string, system = LIMO_SYSTEM) => [
  { role: "system", content: system },
  { role: "user", content },
];
const contents = async (res: Response): Promise<string[]> => ((await res.json()) as any).choices.map((c: any) => c.message.content as string);

/** LIMO's rule: the content of the last `\boxed{...}`, braces matched; null when there is none. */
function lastBoxed(text: string): string | null {
  const at = text.lastIndexOf("\\boxed{");
  if (at === -1) return null;
  let depth = 0;
  for (let i = at + "\\boxed".length; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(at + "\\boxed{".length, i);
  }
  return null;
}

type Row = { problem: string; answer: string };
const rows = (raw: string): Row[] => raw.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Row);
const MATH500 = rows(math500);
const AIME24 = rows(aime24);

describe("final_answers", () => {
  it("ends choice i in final_answers[i mod length], says it in the reasoning first, and keeps doing so", async () => {
    const sim = newSim();
    const finals = ["\\frac{1}{2}", "0.5", "3"];
    await sim.configure({ final_answers: finals });
    for (let round = 0; round < 2; round++) {
      const texts = await contents(await chat(sim, { messages: ask("What is one half?"), n: 5 }));
      expect(texts.map(lastBoxed)).toEqual(["\\frac{1}{2}", "0.5", "3", "\\frac{1}{2}", "0.5"]);
      for (const [i, text] of texts.entries()) {
        const before = text.slice(0, text.lastIndexOf("\\boxed{"));
        expect(before).toContain(`$${/^[\d.]+$/.test(finals[i % 3]!) ? "x = " : ""}${finals[i % 3]}$`);
      }
    }
    expect(lastBoxed(await contents(await chat(sim, { messages: ask("Another one"), stream: false })).then((t) => t[0]!))).toBe("\\frac{1}{2}");
  });

  it("holds for streams and completions, and null restores the hashed answer", async () => {
    const sim = newSim();
    await sim.configure({ final_answers: ["x = 12"] });
    const data = await readSseData(await chat(sim, { messages: ask("Solve"), stream: true }));
    const streamed = data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d).choices[0]?.delta?.content ?? "").join("");
    expect(lastBoxed(streamed)).toBe("x = 12");
    const done = await fetch(`${sim.url}/v1/completions`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ prompt: "Solve", max_tokens: 2000 }) });
    expect(lastBoxed(((await done.json()) as any).choices[0].text)).toBe("x = 12");
    await sim.configure({ final_answers: null });
    expect(lastBoxed((await contents(await chat(sim, { messages: ask("Solve") })))[0]!)).toMatch(/^\d+$/);
  });

  it.each([[[]], [[""]], ["1/2"], [[1]]])("refuses final_answers %j", async (bad) => {
    const res = await fetch(`${newSim().url}/sim/config`, { method: "POST", body: JSON.stringify({ final_answers: bad }) });
    expect(res.status).toBe(400);
  });
});

describe("oracle", () => {
  const isRight = (answer: string | null, reference: string) => answer !== null && [reference, ...equivalentForms(reference)].includes(answer);

  it("answers every shipped problem right at accuracy 1 and wrong at 0, counting each choice once", async () => {
    const sim = newSim();
    const sample = [...MATH500.slice(0, 12), ...AIME24.slice(0, 4)];
    await sim.configure({ oracle: { accuracy: 1, seed: 1 } });
    for (const row of sample) expect(isRight(lastBoxed((await contents(await chat(sim, { messages: ask(row.problem), temperature: 0 })))[0]!), row.answer)).toBe(true);
    await sim.configure({ oracle: { accuracy: 0, seed: 1 } });
    for (const row of sample) {
      const answer = lastBoxed((await contents(await chat(sim, { messages: ask(row.problem), n: 2 })))[0]!);
      expect(answer).not.toBeNull();
      expect(isRight(answer, row.answer)).toBe(false);
    }
    expect(await sim.waitForIdle()).toMatchObject({ oracle_correct: sample.length, oracle_wrong: 2 * sample.length });
  });

  it("is right with the set probability, deterministic per problem and seed, and its counts match what was sent exactly", async () => {
    const sim = newSim();
    await sim.configure({ oracle: { accuracy: 0.6, seed: 7 } });
    const sample = MATH500.slice(100, 160);
    const verdicts: boolean[] = [];
    let rewritten = 0;
    for (const row of sample) {
      const answer = lastBoxed((await contents(await chat(sim, { messages: ask(row.problem), temperature: 0 })))[0]!);
      verdicts.push(isRight(answer, row.answer));
      if (answer !== row.answer && isRight(answer, row.answer)) rewritten++;
    }
    const right = verdicts.filter(Boolean).length;
    expect(await sim.stats()).toMatchObject({ oracle_correct: right, oracle_wrong: sample.length - right });
    expect(right).toBeGreaterThan(20);
    expect(right).toBeLessThan(55);
    // Now and then a right answer is written differently from the reference (0.5 for \frac{1}{2}).
    expect(rewritten).toBeGreaterThan(0);
    // The same seed gives the same verdicts; another seed, others.
    const again = await contents(await chat(sim, { messages: ask(sample[0]!.problem), temperature: 0 }));
    expect(isRight(lastBoxed(again[0]!), sample[0]!.answer)).toBe(verdicts[0]);
    await sim.configure({ oracle: { accuracy: 0.6, seed: 8 } });
    const other: boolean[] = [];
    for (const row of sample.slice(0, 20)) other.push(isRight(lastBoxed((await contents(await chat(sim, { messages: ask(row.problem), temperature: 0 })))[0]!), row.answer));
    expect(other).not.toEqual(verdicts.slice(0, 20));
  });

  it("finds a problem quoted inside a completions prompt, and counts nothing it did not send whole", async () => {
    const sim = newSim();
    await sim.configure({ oracle: { accuracy: 1, seed: 1 } });
    const row = MATH500[3]!;
    const prompt = `<|im_start|>system\n${LIMO_SYSTEM}<|im_end|>\n<|im_start|>user\n${row.problem.replace(/\s+/g, " ")}<|im_end|>\n<|im_start|>assistant\n`;
    const res = await fetch(`${sim.url}/v1/completions`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ prompt, max_tokens: 2000 }) });
    expect(isRight(lastBoxed(((await res.json()) as any).choices[0].text), row.answer)).toBe(true);
    // Cut before its box, or not a shipped problem: not an oracle answer.
    await chat(sim, { messages: ask(row.problem), max_tokens: 10 });
    await chat(sim, { messages: ask("What is 6 times 7?") });
    const streamed = await readSseData(await chat(sim, { messages: ask(row.problem), stream: true, n: 3 }));
    expect(streamed.at(-1)).toBe("[DONE]");
    expect(await sim.waitForIdle()).toMatchObject({ oracle_correct: 4, oracle_wrong: 0 });
  });

  it("gives way to final_answers, and changes nothing where no problems were loaded (the Worker's embedded simulator)", async () => {
    const sim = newSim();
    await sim.configure({ oracle: { accuracy: 1, seed: 1 }, final_answers: ["42"] });
    expect(lastBoxed((await contents(await chat(sim, { messages: ask(MATH500[0]!.problem) })))[0]!)).toBe("42");
    expect(await sim.stats()).toMatchObject({ oracle_correct: 0, oracle_wrong: 0 });

    const embedded = createSimulator();
    await embedded.fetch(new Request("http://sim/sim/config", { method: "POST", body: JSON.stringify({ oracle: { accuracy: 1, seed: 1 } }) }));
    const body = JSON.stringify({ model: "GAIR/LIMO", messages: ask(MATH500[0]!.problem) });
    const res = await embedded.fetch(new Request("http://sim/v1/chat/completions", { method: "POST", headers: JSON_HEADERS, body }));
    expect(lastBoxed(((await res.json()) as any).choices[0].message.content)).toMatch(/^\d+$/);
    const stats = (await (await embedded.fetch(new Request("http://sim/sim/stats"))).json()) as any;
    expect(stats).toMatchObject({ completed_total: 1, oracle_correct: 0, oracle_wrong: 0 });
  });
});

describe("tutoring hints", () => {
  const leaks = (text: string, reference: string) => [reference, ...equivalentForms(reference)].some((form) => text.includes(form));

  it("answers a hint-only system prompt with a hint, leaking the answer at hint_leak_rate", async () => {
    const sim = newSim();
    const reference = "\\frac{1}{2}";
    await sim.configure({ final_answers: [reference], hint_leak_rate: 1 });
    const leaky = await contents(await chat(sim, { messages: ask("What is 1/4 + 1/4?", TUTOR_SYSTEM), n: 6, temperature: 0 }));
    for (const text of leaky) {
      expect(text).toMatch(/Hint:/);
      expect(leaks(text, reference)).toBe(true);
    }
    // In more than one form: the guard must catch 0.5 as well as \frac{1}{2}.
    expect(new Set(leaky.map((t) => [reference, ...equivalentForms(reference)].find((f) => t.includes(f)))).size).toBeGreaterThan(1);

    await sim.configure({ hint_leak_rate: 0 });
    for (const text of await contents(await chat(sim, { messages: ask("What is 1/4 + 1/4?", TUTOR_SYSTEM), n: 6 }))) {
      expect(text).toMatch(/Hint:/);
      expect(text).not.toContain("\\boxed");
      expect(text).not.toMatch(/\d/);
    }
  });

  it("mixes clean and leaking hints by default, and leaves other system prompts alone", async () => {
    const sim = newSim();
    await sim.configure({ final_answers: ["0.5"] });
    const hints = await contents(await chat(sim, { messages: ask("What is 1/4 + 1/4?", TUTOR_SYSTEM), n: 8, temperature: 0 }));
    const leaked = hints.filter((t) => leaks(t, "0.5")).length;
    expect(leaked).toBeGreaterThan(0);
    expect(leaked).toBeLessThan(8);
    const solved = await contents(await chat(sim, { messages: ask("What is 1/4 + 1/4?"), temperature: 0 }));
    expect(lastBoxed(solved[0]!)).toBe("0.5");
    expect(solved[0]).not.toMatch(/Hint:/);
  });
});
