import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:test";
import type { ChatCompletion } from "../../shared/openai";
import { sseEvent } from "../../shared/sse";
import { remoteCas } from "../../worker/answers/checker-rpc";
import { guardedChatStream } from "../../worker/tutoring/guarded-relay";
import { HALF, PROBLEM, answerPieces, expectNoLeak, hintBody, readTutorStream, tutorAccount, type TutorAnswer, type TutorChunk } from "./tutor-helpers";

/** An upstream chat SSE stream that sends `text` in the given pieces, then a finishing chunk and [DONE]. */
function upstream(pieces: string[]): ReadableStream<Uint8Array> {
  const head = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "GAIR/LIMO" };
  const events = [
    sseEvent(JSON.stringify({ ...head, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }), 1),
    ...pieces.map((p, i) => sseEvent(JSON.stringify({ ...head, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] }), i + 2)),
    // A field the relay does not know must not pass: a raw final answer on the finishing chunk would give it away.
    sseEvent(JSON.stringify({ ...head, choices: [{ index: 0, delta: {}, finish_reason: "stop", final_answer: HALF }] })),
    sseEvent("[DONE]"),
  ];
  const bytes = new TextEncoder().encode(events.join(""));
  return new ReadableStream({ start: (c) => (c.enqueue(bytes), c.close()) });
}

async function relayed(pieces: string[], reference = HALF): Promise<{ text: string; body: string }> {
  const stream = guardedChatStream(upstream(pieces), {
    reference,
    // The real checker Worker behind the binding, as the tutor service passes it.
    remote: remoteCas(env.CHECKER),
    includeUsage: false,
    earlierUsage: [],
    tutor: (redactions) => ({ mode: "hint", redactions, regenerations: 0, reference_source: "request", generations: [] }),
  });
  const body = await new Response(stream).text();
  const chunks = body.split("\n\n").filter((e) => e.startsWith("data: {")).map((e) => JSON.parse(e.slice(6)) as TutorChunk);
  return { text: chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), body };
}

/** Splits `text` at the given cut points. */
function cutAt(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let at = 0;
  for (const p of points) if (p > at) (pieces.push(text.slice(at, p)), (at = p));
  pieces.push(text.slice(at));
  return pieces.filter((p) => p !== "");
}

const FORMS = ["\\frac{1}{2}", "\\dfrac{1}{2}", "\\frac12", "\\tfrac12", "0.5", "0.50", ".5", "1/2", "1 / 2", "2/4", "50%", "50\\%", "one half", "a half", "fifty percent"];
const WRAPS = ["the answer is X.", "$X$", "\\(X\\)", "\\boxed{X}", "p = X", "$p = X$", "(X)", "roughly X, as you will see"];
const WORDS = ["Think", "about", "the", "coin:", "two", "sides,", "each", "equally", "likely.", "What", "fraction", "of", "outcomes", "is", "heads?"];

describe("the guarantee: no tutor output contains the reference in a form the checker finds equal", () => {
  it("holds for any leak form, any wrapping and any chunk boundaries (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...WORDS), { maxLength: 12 }),
        fc.constantFrom(...FORMS),
        fc.constantFrom(...WRAPS),
        fc.array(fc.constantFrom(...WORDS), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (before, form, wrap, after, cuts) => {
          const text = `${before.join(" ")} ${wrap.replace("X", form)} ${after.join(" ")}`;
          const { text: out, body } = await relayed(cutAt(text, cuts));
          expect(await answerPieces(out, HALF), out).toEqual([]);
          expect(body).not.toMatch(/final_answer|^id:/m);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("catches a leak split at every offset", async () => {
    const text = "Nearly there: it works out to 0.5 in the end, or $\\frac{1}{2}$.";
    for (let cut = 1; cut < text.length; cut++) {
      const { text: out } = await relayed([text.slice(0, cut), text.slice(cut)]);
      await expectNoLeak(out);
      expect(out.startsWith("Nearly there")).toBe(true);
    }
  });

  it("passes text that gives nothing away, unchanged", async () => {
    const text = "Count the outcomes: a coin has two faces. Which of them do you want?";
    expect((await relayed(cutAt(text, [5, 17, 30, 44]))).text).toBe(text);
  });
});

describe("tutor answers and the cache", () => {
  const plain = { messages: [{ role: "user", content: PROBLEM }], temperature: 0 };

  it("a plain request answered from the cache before a tutor request does not serve the tutor its raw text", async () => {
    const t = await tutorAccount();
    const raw = (await (await t.chat(plain)).json()) as ChatCompletion;
    expect(raw.choices[0]!.message.content).toContain("\\boxed{\\frac{1}{2}}");
    const tutor = (await (await t.chat(hintBody({ temperature: 0 }))).json()) as TutorAnswer;
    await expectNoLeak(tutor.choices[0]!.message.content);
    const again = await t.chat(plain);
    expect(again.headers.get("x-cache")).toBe("HIT");
    expect(((await again.json()) as ChatCompletion).choices[0]!.message.content).toBe(raw.choices[0]!.message.content);
  });

  it("a plain request after a tutor request gets the model's own answer, not guarded text", async () => {
    const t = await tutorAccount();
    // The hidden solve is the plain request's generation: identical body, so the plain request is answered from it, raw.
    await expectNoLeak(((await (await t.chat(hintBody({}, { mode: "hint" }))).json()) as TutorAnswer).choices[0]!.message.content);
    const res = await t.chat(plain);
    const body = (await res.json()) as ChatCompletion;
    expect(body.choices[0]!.message.content).toContain("\\boxed{\\frac{1}{2}}");
    expect(body.choices[0]!.message.content).not.toContain("[answer withheld]");
    expect(body).not.toHaveProperty("tutor");
  });

  it("gives no generation id to resume or read: a tutor generation's stored events are unguarded", async () => {
    const t = await tutorAccount();
    const json = await t.chat(hintBody());
    expect(json.headers.get("x-generation-id")).toBeNull();
    const streamed = await t.chat(hintBody({ stream: true }));
    expect(streamed.headers.get("x-generation-id")).toBeNull();
    const { raw } = await readTutorStream(streamed);
    expect(raw.filter((e) => /^id:/m.test(e))).toEqual([]);
  });

  it("never echoes the reference or the student's answer in the JSON around the text", async () => {
    const t = await tutorAccount();
    const res = await t.chat({
      messages: [{ role: "user", content: PROBLEM }, { role: "user", content: "It's 1/2" }],
      tutor: { mode: "check", reference_answer: HALF },
    });
    const body = (await res.json()) as TutorAnswer;
    expect(body.tutor.correct).toBe(true);
    const { choices: _c, usage: _u, created: _t, ...rest } = body;
    expect(JSON.stringify(rest)).not.toMatch(/1\/2|frac|0\.5/);
    await expectNoLeak(body.choices[0]!.message.content);
  });
});
