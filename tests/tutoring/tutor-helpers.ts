/**
 * @module tutor-helpers
 * What the tutor tests share: an account with its own simulator, a tutor
 * request, and a scan of served text for the reference in any form the
 * checker finds equal, written independently of the guard's own search.
 */
import { expect } from "vitest";
import type { ChatCompletion, ChatCompletionChunk } from "../../shared/openai";
import type { TutorResult } from "../../shared/tutor";
import { checkAnswer } from "../../worker/answers/check";
import { symbolicComparer } from "../../worker/answers/symbolic";
import { limitedAccount, type LimitedAccount } from "../helpers/limits";
import { jsonChunks, readEvents } from "../helpers/sse";

export const PROBLEM = "A fair coin is tossed once. What is the probability that it lands heads?";
export const HALF = "\\frac{1}{2}";

export type TutorAnswer = ChatCompletion & { tutor: TutorResult };
export type TutorChunk = ChatCompletionChunk & { tutor?: TutorResult };

/** A tutor account whose simulator writes `finalAnswers` and leaks every hint (unless told otherwise). */
export async function tutorAccount(finalAnswers: string[] = [HALF], hintLeakRate = 1, limits = {}): Promise<LimitedAccount> {
  const t = await limitedAccount(limits);
  await t.sim.configure({ final_answers: finalAnswers, hint_leak_rate: hintLeakRate });
  return t;
}

export function hintBody(extra: Record<string, unknown> = {}, tutor: Record<string, unknown> = { mode: "hint", reference_answer: HALF }) {
  return { messages: [{ role: "user", content: PROBLEM }], tutor, ...extra };
}

/** A streamed answer: its chunks, its text, and its raw events. */
export async function readTutorStream(res: Response): Promise<{ chunks: TutorChunk[]; text: string; raw: string[] }> {
  expect(res.status, await res.clone().text().catch(() => "")).toBe(200);
  const events = await readEvents(res);
  expect(events.data.at(-1)).toBe("[DONE]");
  const chunks = jsonChunks<TutorChunk>(events);
  return { chunks, text: chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), raw: events.raw };
}

// Every number, fraction, LaTeX fragment and number word a reader could take for an answer.
const PIECES = [
  /\\boxed|\\fbox/g,
  /\\[dt]?frac\s*(?:\{[^{}]*\}|\d)\s*(?:\{[^{}]*\}|\d)/g,
  /[-−]?\d*\.?\d+(?:\s*\/\s*\d+)?\s*(?:%|\\%|percent)?/g,
  /\b(?:one|a)[\s-]+half\b|\bhalf\b|\bone[\s-]+(?:over|out of)[\s-]+two\b|\bfifty\s+percent\b|\bpoint\s+five\b/gi,
];

/** The pieces of `text` the checker finds equal to `reference` (or cannot rule out), and every box. */
export async function answerPieces(text: string, reference: string): Promise<string[]> {
  const found: string[] = [];
  for (const pattern of PIECES) {
    for (const m of text.matchAll(pattern)) {
      const piece = m[0].trim();
      if (/^\\(boxed|fbox)$/.test(piece) || /half|fifty|point/i.test(piece)) found.push(piece);
      else if ((await checkAnswer(reference, piece, { cas: symbolicComparer })).equivalent !== false) found.push(piece);
    }
  }
  return found;
}

/** Asserts the served text gives nothing of `reference` away. */
export async function expectNoLeak(text: string, reference = HALF): Promise<void> {
  expect(await answerPieces(text, reference), text).toEqual([]);
}
