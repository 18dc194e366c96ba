import { describe, expect, it } from "vitest";
import { relayStream, type GenerationOutcome } from "../../worker/services/stream-relay";

const encoder = new TextEncoder();
const chunk = (content: string) =>
  `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"logprobs":null,"finish_reason":null}]}\n\n`;
const USAGE = 'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"total_tokens":5,"completion_tokens":2}}\n\n';
const DONE = "data: [DONE]\n\n";

/** An upstream body that delivers exactly these network reads. */
function upstream(reads: string[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < reads.length) controller.enqueue(encoder.encode(reads[i++]!));
      else controller.close();
    },
  });
}

async function relay(reads: string[], includeUsage: boolean): Promise<{ text: string; outcome: GenerationOutcome }> {
  let outcome: GenerationOutcome | undefined;
  const stream = relayStream(upstream(reads), { includeUsage, abortUpstream: () => {}, onEnd: (o) => (outcome = o) });
  const text = await new Response(stream).text();
  return { text, outcome: outcome! };
}

describe("relayStream", () => {
  const whole = chunk("Hel") + chunk("lo") + USAGE + DONE;

  it("relays events split anywhere across network reads, byte by byte", async () => {
    const { text, outcome } = await relay([...whole], true);
    expect(text).toBe(whole);
    expect(outcome).toMatchObject({ status: "ok", contentTokens: 2, usage: { completion_tokens: 2 } });
  });

  it("drops a usage chunk that arrives in a read of its own, without stalling", async () => {
    const { text, outcome } = await relay([chunk("Hel"), chunk("lo"), USAGE, DONE], false);
    expect(text).toBe(chunk("Hel") + chunk("lo") + DONE);
    expect(outcome.usage).toEqual({ prompt_tokens: 3, total_tokens: 5, completion_tokens: 2 });
  });

  it("passes bytes through untouched when reads hold whole events", async () => {
    const reads = [chunk("a"), chunk("b"), USAGE + DONE];
    expect((await relay(reads, true)).text).toBe(reads.join(""));
  });

  it("ends with an error event when the backend stops without [DONE]", async () => {
    const { text, outcome } = await relay([chunk("a"), chunk("b")], false);
    expect(text.startsWith(chunk("a") + chunk("b"))).toBe(true);
    expect(text).toContain('"code":"backend_error"');
    expect(text).not.toContain("[DONE]");
    expect(outcome).toMatchObject({ status: "backend_error", contentTokens: 2 });
  });
});
