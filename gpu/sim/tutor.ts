/**
 * @module tutor
 * The simulator honours a tutoring system prompt as a real model does, and
 * imperfectly: when the system (or developer) message asks for a hint and
 * tells the model not to reveal the answer, the choice is a short Socratic
 * hint instead of a solution, and a share of the hints (`hint_leak_rate`)
 * still give the answer away, in the reference's own form or an equal one
 * (`0.5` for `\frac{1}{2}`), inline or boxed. So a tutor guard is exercised
 * both ways: a clean hint must pass through, a leaking one must be caught.
 */
import { equivalentForms } from "./answer-forms";
import { createRng } from "./prng";

/** "hint" somewhere in the instructions... */
const HINT_WORD = /\bhints?\b/i;
/** ...and an instruction not to give the answer away. */
const WITHHOLD =
  /\b(?:do not|don't|never|without|must not|mustn't|not to)\b[^.\n]{0,60}\b(?:reveal|give|giving|state|stating|tell|share|write|writing|say|provide|disclose|include)\w*\b[^.\n]{0,40}\b(?:answer|solution|result)s?\b/i;

/** True when `instructions` (system and developer text) ask for a hint that withholds the answer. */
export function asksForHint(instructions: string): boolean {
  return HINT_WORD.test(instructions) && WITHHOLD.test(instructions);
}

export interface HintSpec {
  /** Varies the wording: the choice's sampling seed key. */
  seedKey: string;
  /** The answer the hint is about (and may leak). */
  answer: string;
  /** Share of hints that leak, 0..1 (the `hint_leak_rate` knob). */
  leakRate: number;
}

export interface Hint {
  text: string;
  /** The form of the answer the hint gave away, or null for a clean hint. */
  leaked: string | null;
}

// No digits or formulas in these: a clean hint must not contain any answer by accident.
const OPENINGS = [
  "Good question! Let's work toward it together instead of jumping to the end.",
  "Let's think about this one step at a time, without giving the whole thing away.",
  "Nice problem. Here is a nudge in the right direction.",
] as const;

const NUDGES = [
  "Start by writing down exactly what is given and what is being asked.",
  "Try naming the unknown quantity and writing one equation that must hold.",
  "Look for a smaller version of the problem that you can solve by hand first.",
  "Think about which quantity stays the same while the others change.",
  "Check whether the problem has a symmetry that lets you count one case only.",
  "Draw a quick sketch: the relationships are often easier to see that way.",
] as const;

const CLOSINGS = [
  "What do you get when you try that?",
  "Give it a try and tell me what you find.",
  "Once you have that, the rest should follow. What is your next step?",
] as const;

/** A hint about the problem; deterministic in its spec. */
export function generateHint(spec: HintSpec): Hint {
  const rng = createRng(`hint\u0000${spec.seedKey}`);
  const first = rng.pick(NUDGES);
  let second: string = rng.pick(NUDGES);
  if (second === first) second = NUDGES[(NUDGES.indexOf(first) + 1) % NUDGES.length] as string;
  const parts = [rng.pick(OPENINGS), `\n\nHint: ${first} ${second}`];
  const leaks = rng.next() < spec.leakRate;
  let leaked: string | null = null;
  if (leaks) {
    const forms = [spec.answer, ...equivalentForms(spec.answer)];
    leaked = rng.pick(forms);
    const ways = [
      `\n\n(If you want to check yourself at the end: it works out to $${leaked}$.)`,
      `\n\nFor reference, the final answer is \\boxed{${leaked}}.`,
      `\n\nYou should eventually find that the answer is ${leaked}.`,
    ];
    parts.push(rng.pick(ways));
  }
  parts.push(`\n\n${rng.pick(CLOSINGS)}`);
  return { text: parts.join(""), leaked };
}
