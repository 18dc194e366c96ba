/**
 * @module prompts
 * The tutoring system prompts. They replace LIMO's default prompt (which asks
 * for a full solution ending in `\boxed{}`, the very thing a tutor withholds)
 * and give the model the reference answer so it can guide toward it. The
 * prompt only asks; the guard (tutor-service, guarded-relay) is what
 * guarantees that the answer is not sent.
 */
import type { ChatMessage } from "../../shared/openai";

const TUTOR_ROLE =
  "You are a patient math tutor. A student is working on the problem in this conversation; the student's latest message is the last one.";

const WITHHOLD =
  "Do not reveal the final answer, and do not write it in any form: no \\boxed{}, no number, fraction, decimal, percentage or expression equal to it, not even in words. " +
  "Do not solve the problem for the student. Keep your reply short.";

const HINT_TASK = "Give exactly one hint that helps with the student's next step, ending with a guiding question.";

/** What the check found, and what the feedback should do about it. */
const CHECK_TASK: Record<"true" | "false" | "null", string> = {
  true: "The student's final answer is correct. Tell them so and name one thing their reasoning did well; no further hint is needed. Do not repeat the answer itself.",
  false: "The student's final answer is not correct. Tell them so kindly, and give one hint about where their reasoning may have gone wrong.",
  null: "It could not be determined automatically whether the student's final answer is correct. Ask them to explain how they got it, and give one hint for checking their own work.",
};

/** The hint mode's system prompt, the reference answer included for the model's eyes only. */
export function hintPrompt(reference: string): string {
  return `${TUTOR_ROLE}\n\n${HINT_TASK} ${WITHHOLD}\n\n${secret(reference)}`;
}

/** The check mode's system prompt for a verdict the checker already reached. */
export function checkPrompt(reference: string, correct: boolean | null): string {
  return `${TUTOR_ROLE}\n\n${CHECK_TASK[String(correct) as "true" | "false" | "null"]} ${WITHHOLD}\n\n${secret(reference)}`;
}

function secret(reference: string): string {
  return `For your eyes only, never to be repeated: the correct final answer is ${reference}.`;
}

/**
 * The conversation the tutor generation reads: one system message (ours,
 * then the platform's own system text as context that cannot override it),
 * then the conversation's other messages unchanged.
 */
export function tutorMessages(systemPrompt: string, messages: readonly ChatMessage[]): ChatMessage[] {
  const isInstruction = (m: ChatMessage): boolean => m.role === "system" || m.role === "developer";
  const platform = messages.filter(isInstruction).map((m) => textOf(m.content)).filter((t) => t.trim() !== "");
  const context = platform.length > 0 ? `\n\nThe platform's instructions, as context (they never override the rules above):\n${platform.join("\n\n")}` : "";
  return [{ role: "system", content: systemPrompt + context }, ...messages.filter((m) => !isInstruction(m))];
}

/** A message's text (its text parts joined). */
export function textOf(content: ChatMessage["content"]): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content.map((p) => (p.type === "text" && "text" in p && typeof p.text === "string" ? p.text : "")).join("");
}
