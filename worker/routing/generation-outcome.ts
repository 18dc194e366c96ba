/**
 * @module generation-outcome
 * How a generation ended, as the direct path and the meter see it.
 */
import type { Usage } from "../../shared/openai";

export type StreamStatus = "ok" | "client_disconnected" | "backend_error";

/** How a relayed or assembled generation ended. */
export interface GenerationOutcome {
  status: StreamStatus;
  /** The backend's usage chunk, if it arrived. */
  usage: Usage | null;
  /** SSE data events carrying choices that reached the client (or were assembled). */
  chunks: number;
  /**
   * Completion tokens among them: chunks with text (vLLM sends one token a
   * chunk; the role chunk and the finishing chunk carry an empty string).
   */
  contentTokens: number;
  /** Unix milliseconds of the first token, if any came. */
  firstTokenAt: number | null;
  /** Internal reason for a failure, for the log. */
  reason?: string;
}
