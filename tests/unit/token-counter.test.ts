/**
 * streams/token-counter: each backend event's tokens from vLLM's continuous
 * usage (per choice, cumulative), and the event as a client sees it (no
 * `usage` but on the final usage chunk), for vLLM's shapes, for any text, and
 * for backends that send no continuous usage.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TokenCounter } from "../../worker/streams/token-counter";
import { sseData } from "../../shared/sse";

const HEAD = { id: "chatcmpl-9f2c", object: "chat.completion.chunk", created: 1764590000, model: "GAIR/LIMO" };
const usage = (prompt: number, completion: number) => ({ prompt_tokens: prompt, total_tokens: prompt + completion, completion_tokens: completion });

/** vLLM's chat chunk: `usage` right after `choices`, then whatever else the chunk sets. */
function chunk(index: number, text: string, completion: number | null, rest: Record<string, unknown> = {}, finish: string | null = null): string {
  const choice = { index, delta: { content: text }, logprobs: null, finish_reason: finish, token_ids: null };
  const body = { ...HEAD, choices: [choice], ...(completion === null ? {} : { usage: usage(12, completion) }), ...rest };
  return `data: ${JSON.stringify(body)}`;
}

const parsed = (event: string) => JSON.parse(sseData(event)!) as Record<string, unknown>;

describe("TokenCounter", () => {
  it("takes each chunk's tokens from the running count and cuts the usage out, byte for byte", () => {
    const counter = new TokenCounter();
    const role = `data: ${JSON.stringify({ ...HEAD, choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }], usage: usage(12, 0), prompt_token_ids: null, prompt_text: null })}`;
    const first = counter.count(role);
    expect(first.tokens).toBe(0);
    expect(first.event).toBe(`data: ${JSON.stringify({ ...HEAD, choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }], prompt_token_ids: null, prompt_text: null })}`);
    expect(counter.count(chunk(0, "Let", 1))).toEqual({ event: chunk(0, "Let", null), tokens: 1 });
    expect(counter.count(chunk(0, " me think about", 9))).toEqual({ event: chunk(0, " me think about", null), tokens: 8 });
    // The end of sequence: no text, one token (vLLM counts the EOS token).
    expect(counter.count(chunk(0, "", 10, {}, "stop"))).toEqual({ event: chunk(0, "", null, {}, "stop"), tokens: 1 });
  });

  it("counts each choice of an n > 1 request on its own", () => {
    const counter = new TokenCounter();
    const got = [chunk(0, "a", 1), chunk(1, "b", 1), chunk(1, "cdefghij", 9), chunk(0, "klmnopqr", 9), chunk(1, "s", 10)].map((e) => counter.count(e).tokens);
    expect(got).toEqual([1, 1, 8, 8, 1]);
  });

  it("leaves the final usage chunk alone, with no tokens of its own", () => {
    const final = `data: ${JSON.stringify({ ...HEAD, choices: [], usage: usage(12, 10) })}`;
    expect(new TokenCounter().count(final)).toEqual({ event: final, tokens: 0 });
    // Nor do [DONE] and comments.
    expect(new TokenCounter().count("data: [DONE]")).toEqual({ event: "data: [DONE]", tokens: 0 });
    expect(new TokenCounter().count(": keep-alive")).toEqual({ event: ": keep-alive", tokens: 0 });
  });

  it("counts a chunk with text as one token when the backend sends no running count", () => {
    const counter = new TokenCounter();
    expect(counter.count(chunk(0, "several tokens here", null))).toEqual({ event: chunk(0, "several tokens here", null), tokens: 1 });
    expect(counter.count(chunk(0, "", null, {}, "stop")).tokens).toBe(0);
  });

  it("reads a usage it cannot cut in place (nested details) in full, and still cuts it", () => {
    const counter = new TokenCounter();
    const event = `data: ${JSON.stringify({ ...HEAD, choices: [{ index: 0, delta: { content: "xy" }, logprobs: null, finish_reason: null }], usage: { ...usage(12, 3), prompt_tokens_details: { cached_tokens: 8 } } })}`;
    const got = counter.count(event);
    expect(got.tokens).toBe(3);
    expect(parsed(got.event)).toEqual({ ...HEAD, choices: [{ index: 0, delta: { content: "xy" }, logprobs: null, finish_reason: null }] });
  });

  it("for any texts and any interval, the tokens add up to the running count and the events are vLLM's chunk without usage", () => {
    const text = fc.string({ unit: fc.constantFrom("a", '"', "\\", "}", "{", ',"usage":{', '"choices":[{"index":1', "é", "\n", ":", "") });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), text, fc.integer({ min: 0, max: 16 })), { maxLength: 40 }), (steps) => {
        const counter = new TokenCounter();
        const totals = [0, 0, 0];
        let counted = 0;
        for (const [index, t, add] of steps) {
          totals[index]! += add;
          const got = counter.count(chunk(index, t, totals[index]!, { prompt_token_ids: null }));
          counted += got.tokens;
          expect(got.tokens).toBe(add);
          expect(got.event).toBe(chunk(index, t, null, { prompt_token_ids: null }));
        }
        expect(counted).toBe(totals[0]! + totals[1]! + totals[2]!);
      }),
    );
  });
});
