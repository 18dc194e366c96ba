/**
 * @module checker-rpc
 * The checker Worker's contract (checker/index.ts implements it): the whole
 * check pipeline with the CAS, for the pairs and votes the main Worker could
 * not decide without it. The main Worker reaches it through the service
 * binding `CHECKER` (wrangler.toml `[[services]]`), one call per request, and
 * `remoteCas` is its one getter: a binding that is absent or a call that fails
 * is logged here and rejected, and the checker then answers null (check.ts
 * `CAS_UNAVAILABLE`), never a guess and never a 500.
 */
import { log } from "../core/log";
import type { CheckPair, RemoteCheck, RemoteCheckAnswer } from "./check";
import type { RemoteCas } from "./remote-cas";
import type { RemoteVote, RemoteVoteAnswer } from "./vote";

/** The checker Worker's RPC methods. Arguments and answers are plain data (structured clone). */
export interface CheckerRpc extends Rpc.WorkerEntrypointBranded, RemoteCheck, RemoteVote {
  checkPairs(pairs: CheckPair[], workUnits: number): Promise<RemoteCheckAnswer>;
  vote(finalAnswers: (string | null)[], workUnits: number): Promise<RemoteVoteAnswer>;
}

/** The checker Worker behind `binding` (env.CHECKER), for one request. */
export function remoteCas(binding: Service<CheckerRpc> | undefined, requestId?: string): RemoteCas {
  const call = async <T>(method: string, size: number, f: (checker: Service<CheckerRpc>) => Promise<T>): Promise<T> => {
    if (!binding) {
      log("error", "answer checker: no CHECKER service binding; pairs that need the CAS are undecided", { requestId, method, size });
      throw new Error("no CHECKER binding");
    }
    try {
      return await f(binding);
    } catch (err) {
      log("error", "answer checker: the checker Worker failed; pairs that need the CAS are undecided", {
        requestId,
        method,
        size,
        error: err instanceof Error ? err.message.slice(0, 200) : "unknown",
      });
      throw err;
    }
  };
  return {
    checkPairs: (pairs, workUnits) => call("checkPairs", pairs.length, async (c) => plain<RemoteCheckAnswer>(await c.checkPairs(pairs, workUnits))),
    vote: (finalAnswers, workUnits) => call("vote", finalAnswers.length, async (c) => plain<RemoteVoteAnswer>(await c.vote(finalAnswers, workUnits))),
  };
}

// An RPC answer arrives as a structured clone; its static type is wrapped in RPC stub types.
function plain<T>(value: unknown): T {
  return value as T;
}
