import { describe, expect, it } from "vitest";
import { Run, type RunMeta } from "../../worker/generations/generation-run";

const meta = (): RunMeta => ({
  run: 1, status: "in_progress", model: "limo", endpoint: "chat", background: false, cacheable: false, backend: "b",
  createdAt: 0, completedAt: null, expiresAt: null, retainMs: 1000, viewers: [], error: null, usage: null,
});
const chunk = (content: string) => `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${content}"}}]}`;
const USAGE = 'data: {"id":"c","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';

/**
 * Resolves once every promise reaction already queued has run (a zero-delay
 * timer fires only after them): an ordering point, not a wait for time.
 */
const afterPendingReactions = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe("a run's SSE for one reader", () => {
  it("does not stall when the only new event is a usage chunk this reader skips", async () => {
    const run = new Run(meta());
    let ended: [boolean, number] | undefined;
    const reader = run.sse(0, false, (done, delivered) => (ended = [done, delivered])).getReader();
    const decoder = new TextDecoder();
    run.append(chunk("a"), 1);
    let body = decoder.decode((await reader.read()).value);
    // The next read finds only the usage chunk, which this reader skips; [DONE] comes once it has looked.
    run.usageIndex = run.events.length;
    run.append(USAGE, 0);
    const next = reader.read();
    await afterPendingReactions();
    run.append("data: [DONE]", 0);
    run.end("completed", null, 1);
    for (let read = await next; !read.done; read = await reader.read()) body += decoder.decode(read.value);
    expect(body).toBe(`id: 1\n${chunk("a")}\n\nid: 3\ndata: [DONE]\n\n`);
    expect(ended).toEqual([true, 1]);
  });

  it("sends keep-alive comments while the run waits for a cold backend", async () => {
    const run = new Run(meta());
    const reader = run.sse(0, true, () => {}, 10).getReader();
    run.setWaiting(true);
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe(": waiting for a GPU backend to start\n\n");
    run.setWaiting(false);
    run.append(chunk("a"), 1);
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("id: 1\n");
    await reader.cancel();
  });
});
