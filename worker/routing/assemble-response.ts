/**
 * @module routing/assemble-response
 * Reads a whole backend stream for a client that did not ask to stream (the
 * direct JSON path), collected natively, and folds it into the answer.
 */
import { SseSplitter, sseData } from "../../shared/sse";
import type { ChatCompletion, Completion } from "../../shared/openai";
import type { Endpoint } from "../generations/prepare";
import { CompletionAssembler } from "../streams/completion-assembler";
import { readContentChunk } from "../streams/content-chunk";
import { classifyEvent } from "../streams/stream-events";
import { TokenCounter } from "../streams/token-counter";
import type { GenerationOutcome } from "./generation-outcome";
import type { WatchedReader } from "./watchdog";

export interface Assembled {
  body: ChatCompletion | Completion | null;
  outcome: GenerationOutcome;
}

/**
 * Reads the whole backend stream (collected natively: `WatchedReader#text`,
 * no JavaScript per chunk) and folds it. Returns the assembled body when the
 * stream ended with `[DONE]` and its usage chunk; otherwise `body` is null and
 * the outcome says why.
 */
export async function assembleResponse(reader: WatchedReader, endpoint: Endpoint, signal: AbortSignal): Promise<Assembled> {
  const assembler = new CompletionAssembler(endpoint);
  let chunks = 0;
  let contentTokens = 0;
  const outcome = (status: GenerationOutcome["status"], reason?: string): Assembled => ({
    body: null,
    outcome: { status, usage: assembler.usage, chunks, contentTokens, firstTokenAt: reader.firstByteAt(), reason },
  });

  let text: string;
  try {
    text = await reader.text();
  } catch (err) {
    return outcome(signal.aborted ? "client_disconnected" : "backend_error", `backend stream broke: ${String(err)}`);
  } finally {
    // After the whole body this changes nothing; otherwise the backend is told to stop.
    reader.cancel("cancelled");
  }
  const counter = new TokenCounter();
  for (const raw of new SseSplitter().push(text)) {
    // The backend's count of the event's tokens, taken out of the event (streams/token-counter).
    const { event, tokens } = counter.count(raw);
    // Most events are a few tokens of one choice: read those without parsing the whole chunk.
    const content = assembler.started ? readContentChunk(event, endpoint) : null;
    if (content !== null) {
      chunks++;
      assembler.addContent(content.index, content.text);
      contentTokens += tokens;
      continue;
    }
    const kind = classifyEvent(event);
    if (kind.kind === "usage") assembler.usage = kind.usage;
    else if (kind.kind === "error") return outcome("backend_error", `backend error event: ${kind.message}`);
    else if (kind.kind === "done") {
      const body = assembler.build();
      if (!body) return outcome("backend_error", "backend stream had no chunks or no usage");
      return { body, outcome: { status: "ok", usage: assembler.usage, chunks, contentTokens, firstTokenAt: reader.firstByteAt() } };
    } else if (kind.kind === "chunk") {
      const data = sseData(event);
      if (data === null) continue;
      chunks++;
      assembler.addChunk(data);
      contentTokens += tokens;
    }
  }
  return outcome("backend_error", "backend stream ended without [DONE]");
}
