/**
 * @module remote-cas
 * The CAS step as a service somewhere else (the checker Worker, or in-process
 * in Node tools): the checks and votes the main Worker sends there, and the
 * bounds each call respects. The binding's contract is checker-rpc.ts.
 */
import type { RemoteCheck } from "./check";
import type { RemoteVote } from "./vote";

/** Most pairs one `checkPairs` call may carry (a leak guard's text may probe many fragments). */
export const MAX_REMOTE_PAIRS = 256;
/** Most answers one remote vote may carry (shared/answers `vote.n` is far below). */
export const MAX_REMOTE_VOTE_ANSWERS = 128;

/** What the main Worker's checks, votes and leak guards call. */
export type RemoteCas = RemoteCheck & RemoteVote;
