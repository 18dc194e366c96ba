/**
 * @module voting
 * The request field `vote` (shared/answers.ts): which `n` it means, its
 * refusals (free: before admission), and the top-level `vote` of an answer,
 * grouped by the checker's equivalence over the choices' `final_answer`
 * (worker/answers/vote). Pure: the checker Worker comes in as `remote`.
 */
import type { VoteObject, VoteOption, WithAnswers } from "../../shared/answers";
import type { ChatCompletion, Completion } from "../../shared/openai";
import { voteOnAnswers, type RemoteVote } from "../answers/vote";
import { ApiError } from "../core/errors";

/** An answer whose choices carry `final_answer`. */
type Answered = WithAnswers<ChatCompletion> | WithAnswers<Completion>;

/**
 * The request with `n` set by `vote: {n}`, or unchanged. A vote needs at
 * least two samples: `vote: true` with `n` unset or 1 is a 400, as is a
 * `vote.n` that contradicts an explicit `n`. (`vote.n` beyond the maximum `n`
 * is refused by the schema.)
 */
export function applyVote<R extends { n?: number | null; vote?: VoteOption | null }>(request: R): R {
  const vote = request.vote;
  if (vote === null || vote === undefined || vote === false) return request;
  if (vote === true) {
    if ((request.n ?? 1) < 2) {
      throw new ApiError("invalid_value", "'vote' needs at least two samples: set 'n' to 2 or more, or send \"vote\": {\"n\": 8}.", { param: "vote" });
    }
    return request;
  }
  if (request.n != null && request.n !== vote.n) {
    throw new ApiError("invalid_value", `'vote.n' (${vote.n}) and 'n' (${request.n}) disagree: set one of them.`, { param: "vote.n" });
  }
  return { ...request, n: vote.n };
}

/** The vote over an answer's choices (a choice without a final answer counts in no group). */
export function voteOf(body: Answered, remote: RemoteVote | null): Promise<VoteObject> {
  return voteOnAnswers(body.choices.map((c) => c.final_answer ?? null), { remote });
}

/** The answer with its top-level `vote`. */
export async function withVote<T extends Answered>(body: T, remote: RemoteVote | null): Promise<T & { vote: VoteObject }> {
  return { ...body, vote: await voteOf(body, remote) };
}

/** The stream chunk that carries the vote: empty `choices`, like vLLM's usage chunk; the last before `[DONE]`. */
export function voteChunk(body: Answered, vote: VoteObject): Record<string, unknown> {
  const object = body.object === "chat.completion" ? "chat.completion.chunk" : "text_completion";
  return { id: body.id, object, created: body.created, model: body.model, choices: [], vote };
}
