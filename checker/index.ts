/**
 * @module checker
 * The checker Worker (`limo-checker`): the answer checker's CAS step, kept out
 * of the generation Worker so that `@cortex-js/compute-engine` (~1.2 MiB
 * gzipped) is parsed only here, never at a generation's cold start. The main
 * Worker runs every other step itself and calls this Worker through its
 * `CHECKER` service binding (RPC, one call per request) only for the pairs and
 * votes that need the CAS (worker/answers/checker-rpc.ts). Each call runs the
 * whole pipeline again with the CAS under a work budget capped here
 * (pipeline.ts). No bindings, no state, no public route (`workers_dev = false`).
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { CheckPair, RemoteCheckAnswer } from "../worker/answers/check";
import type { CheckerRpc } from "../worker/answers/checker-rpc";
import type { RemoteVoteAnswer } from "../worker/answers/vote";
import { checkPairsWithCas, voteWithCas } from "./pipeline";

export default class CheckerEntrypoint extends WorkerEntrypoint implements CheckerRpc {
  /** The full check, CAS included, of each pair in order under one budget. */
  checkPairs(pairs: CheckPair[], workUnits: number): Promise<RemoteCheckAnswer> {
    return checkPairsWithCas(pairs, workUnits);
  }

  /** The whole vote, CAS included, under one budget. */
  vote(finalAnswers: (string | null)[], workUnits: number): Promise<RemoteVoteAnswer> {
    return voteWithCas(finalAnswers, workUnits);
  }

  /** No HTTP API: a plain answer, so a probe (bench/answers.ts) can time a cold start. The work is RPC only. */
  override async fetch(): Promise<Response> {
    return new Response("limo-checker: the answer checker's CAS, over RPC through the CHECKER service binding\n");
  }
}
