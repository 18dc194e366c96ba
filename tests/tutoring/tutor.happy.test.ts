import { describe, expect, it } from "vitest";
import { HALF, PROBLEM, expectNoLeak, hintBody, readTutorStream, tutorAccount, type TutorAnswer } from "./tutor-helpers";

describe("tutor hint, JSON", () => {
  it("regenerates a leaking hint TUTOR_MAX_REGENERATIONS times, then redacts, and bills every generation", async () => {
    const t = await tutorAccount();
    const res = await t.chat(hintBody());
    expect(res.status).toBe(200);
    const body = (await res.json()) as TutorAnswer;
    const text = body.choices[0]!.message.content;
    await expectNoLeak(text);
    expect(text).toContain("[answer withheld]");
    expect(body.tutor).toMatchObject({ mode: "hint", regenerations: 2, reference_source: "request" });
    expect(body.tutor.redactions).toBeGreaterThan(0);
    expect(body.tutor.generations.map((g) => g.purpose)).toEqual(["attempt", "attempt", "attempt"]);
    const ledger = await t.settledLedger(3);
    expect(ledger.map((r) => r.request_id).sort()).toEqual(body.tutor.generations.map((g) => g.request_id).sort());
    expect(ledger.every((r) => r.status === "ok" && !r.cached)).toBe(true);
    const billed = ledger.reduce((s, r) => s + r.prompt_tokens + r.completion_tokens, 0);
    expect(body.usage.total_tokens).toBe(billed);
    expect(body.usage.completion_tokens).toBe((await t.sim.waitForIdle()).tokens_generated_total);
    expect((await t.sim.stats()).requests_total).toBe(3);
  });

  it("serves a clean hint untouched, in one generation", async () => {
    const t = await tutorAccount([HALF], 0);
    const body = (await (await t.chat(hintBody())).json()) as TutorAnswer;
    expect(body.tutor).toMatchObject({ mode: "hint", redactions: 0, regenerations: 0 });
    expect(body.choices[0]!.message.content).toMatch(/Hint:/);
    expect(body.choices[0]!.message.content).not.toContain("[answer withheld]");
    expect((await t.settledLedger(1)).length).toBe(1);
  });

  it("sends the tutoring prompt, with the platform's system message kept as context, and the reference to the model only", async () => {
    const t = await tutorAccount([HALF], 0);
    const res = await t.chat(hintBody({ messages: [{ role: "system", content: "Address the student as Sam." }, { role: "user", content: PROBLEM }] }));
    const body = (await res.json()) as TutorAnswer;
    const sent = (await t.sim.stats()).last_request!.body as { messages: { role: string; content: string }[]; tutor?: unknown };
    expect(sent.tutor).toBeUndefined();
    expect(sent.messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(sent.messages[0]!.content).toMatch(/^You are a patient math tutor/);
    expect(sent.messages[0]!.content).toContain("Address the student as Sam.");
    expect(sent.messages[0]!.content).toContain(HALF);
    expect(JSON.stringify(body)).not.toContain(HALF);
  });
});

describe("tutor hint, streamed", () => {
  it("redacts the leak in the stream, carries tutor on the finishing chunk, and has no resumable ids", async () => {
    const t = await tutorAccount();
    const res = await t.chat(hintBody({ stream: true, stream_options: { include_usage: true } }));
    expect(res.headers.get("x-generation-id")).toBeNull();
    const { chunks, text, raw } = await readTutorStream(res);
    await expectNoLeak(text);
    expect(raw.some((e) => /^id:/m.test(e))).toBe(false);
    const finishing = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finishing!.tutor).toMatchObject({ mode: "hint", regenerations: 0, reference_source: "request" });
    expect(finishing!.tutor!.redactions).toBeGreaterThan(0);
    const usage = chunks.at(-1)!.usage!;
    const ledger = await t.settledLedger(1);
    expect(usage.total_tokens).toBe(ledger[0]!.prompt_tokens + ledger[0]!.completion_tokens);
  });

  for (const form of ["0.5", "1/2", "\\frac12", "\\dfrac{1}{2}", "one half", "50\\%", ".5", "\\tfrac{1}{2}"]) {
    it(`withholds the reference written as ${form}, JSON and streamed`, async () => {
      const t = await tutorAccount([form]);
      const json = (await (await t.chat(hintBody())).json()) as TutorAnswer;
      await expectNoLeak(json.choices[0]!.message.content);
      expect(json.tutor.redactions).toBeGreaterThan(0);
      const { text } = await readTutorStream(await t.chat(hintBody({ stream: true })));
      await expectNoLeak(text);
    });
  }
});

describe("tutor without reference_answer: the hidden solve", () => {
  it("solves first (billed, its own record), then guards against the solve's final answer; a second student costs no second solve", async () => {
    const t = await tutorAccount();
    const body = (await (await t.chat(hintBody({}, { mode: "hint" }))).json()) as TutorAnswer;
    await expectNoLeak(body.choices[0]!.message.content);
    expect(body.tutor.reference_source).toBe("solve");
    expect(body.tutor.generations[0]).toMatchObject({ purpose: "solve", cached: false });
    expect(body.tutor.generations[0]!.request_id).toMatch(/^req_[0-9a-f]+-solve$/);
    const first = await t.settledLedger(4);
    expect(body.usage.total_tokens).toBe(first.reduce((s, r) => s + r.prompt_tokens + r.completion_tokens, 0));
    const afterFirst = (await t.sim.stats()).requests_total;
    expect(afterFirst).toBe(4);

    const again = (await (await t.chat(hintBody({ user: "student-2" }, { mode: "hint" }))).json()) as TutorAnswer;
    expect(again.tutor.generations[0]).toMatchObject({ purpose: "solve", cached: true });
    // Only the hint generations reached the GPU: the solve came from the cache.
    expect((await t.sim.waitForIdle()).requests_total).toBe(afterFirst + 3);
    const ledger = await t.settledLedger(8);
    expect(ledger.find((r) => r.request_id === again.tutor.generations[0]!.request_id)).toMatchObject({ cached: true, status: "ok" });
  });

  it("streams a hint after a hidden solve, usage totalling both", async () => {
    const t = await tutorAccount();
    const { chunks, text } = await readTutorStream(await t.chat(hintBody({ stream: true, stream_options: { include_usage: true } }, { mode: "hint" })));
    await expectNoLeak(text);
    const ledger = await t.settledLedger(2);
    expect(chunks.at(-1)!.usage!.total_tokens).toBe(ledger.reduce((s, r) => s + r.prompt_tokens + r.completion_tokens, 0));
  });
});

describe("tutor check", () => {
  const check = (answer: string, extra: Record<string, unknown> = {}) => ({
    messages: [
      { role: "user", content: PROBLEM },
      { role: "assistant", content: "What do you think?" },
      { role: "user", content: answer },
    ],
    tutor: { mode: "check", reference_answer: HALF },
    ...extra,
  });

  it("says correct for an equal answer in another form", async () => {
    const t = await tutorAccount();
    const body = (await (await t.chat(check("I think it is 0.5"))).json()) as TutorAnswer;
    expect(body.tutor).toMatchObject({ mode: "check", correct: true });
    await expectNoLeak(body.choices[0]!.message.content);
  });

  it("says wrong for a different answer, with feedback that withholds the reference", async () => {
    const t = await tutorAccount();
    const body = (await (await t.chat(check("My answer is \\boxed{\\frac{1}{3}}"))).json()) as TutorAnswer;
    expect(body.tutor).toMatchObject({ mode: "check", correct: false });
    await expectNoLeak(body.choices[0]!.message.content);
    const sent = (await t.sim.stats()).last_request!.body as { messages: { content: string }[] };
    expect(sent.messages[0]!.content).toContain("not correct");
  });

  it("says null when the checker cannot decide, and still withholds the reference", async () => {
    const t = await tutorAccount();
    const body = (await (await t.chat(check("I choose \\boxed{A}"))).json()) as TutorAnswer;
    expect(body.tutor).toMatchObject({ mode: "check", correct: null });
    await expectNoLeak(body.choices[0]!.message.content);
  });

  it("streams the check's verdict on the finishing chunk", async () => {
    const t = await tutorAccount();
    const { chunks, text } = await readTutorStream(await t.chat(check("1/3", { stream: true })));
    await expectNoLeak(text);
    expect(chunks.find((c) => c.tutor)!.tutor).toMatchObject({ mode: "check", correct: false });
  });
});
