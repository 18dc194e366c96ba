/**
 * What a client sees of vLLM's `--stream-interval` (VLLM_STREAM_INTERVAL, as
 * `npm run dev` and the deployment stream): a choice's first token alone,
 * then a chunk per N tokens, the rest with its finish.
 */
import { VLLM_STREAM_INTERVAL } from "../../shared/constants";

/** The chunks with text a choice of `tokens` tokens streams in. */
export function contentChunks(tokens: number, interval = VLLM_STREAM_INTERVAL): number {
  return tokens === 0 ? 0 : 1 + Math.ceil((tokens - 1) / interval);
}
