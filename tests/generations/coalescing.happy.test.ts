import { describe, expect, it } from "vitest";
import type { ChatCompletion, ChatCompletionChunk } from "../../shared/openai";
import { limitedAccount } from "../helpers/limits";
import { jsonChunks, readEvents } from "../helpers/sse";

const QUESTION = { messages: [{ role: "user", content: "What is 17 * 23?" }], temperature: 0, max_tokens: 60 };
const textOf = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");

describe("response cache and coalescing", () => {
  it("answers 50 identical concurrent requests with one backend request and the same bytes", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ tokens_per_second: 400 });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => acct.chat({ ...QUESTION, stream: true })),
    );
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(bodies[0]).toContain("data: [DONE]");
    const verdicts = responses.map((r) => r.headers.get("x-cache"));
    expect(verdicts.filter((v) => v === "MISS")).toHaveLength(1);
    expect(verdicts.every((v) => v === "MISS" || v === "COALESCED" || v === "HIT")).toBe(true);
    expect(new Set(responses.map((r) => r.headers.get("x-generation-id"))).size).toBe(1);
    expect((await acct.sim.stats()).requests_total).toBe(1);
    const ledger = await acct.settledLedger(50);
    expect(ledger).toHaveLength(50);
    expect(ledger.filter((e) => !e.cached)).toHaveLength(1);
    expect(ledger.every((e) => e.status === "ok")).toBe(true);
  });

  it("gives streaming and non-streaming clients the same answer from one backend request", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ tokens_per_second: 400 });
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => acct.chat({ ...QUESTION, stream: i % 2 === 0 })));
    const texts = await Promise.all(
      responses.map(async (r, i) =>
        i % 2 === 0 ? textOf(jsonChunks<ChatCompletionChunk>(await readEvents(r))) : ((await r.json()) as ChatCompletion).choices[0]!.message.content,
      ),
    );
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]!.length).toBeGreaterThan(0);
    expect(responses.every((r) => ["MISS", "COALESCED", "HIT"].includes(r.headers.get("x-cache")!))).toBe(true);
    expect((await acct.sim.stats()).requests_total).toBe(1);
    await acct.settledLedger(20);
  });

  it("replays a repeat as a HIT without the backend, billed as cached; no-cache reaches the backend", async () => {
    const acct = await limitedAccount();
    const first = await acct.chat(QUESTION);
    expect(first.headers.get("x-cache")).toBe("MISS");
    const body = (await first.json()) as ChatCompletion;
    await acct.settledLedger(1);

    const hit = await acct.chat(QUESTION);
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(await hit.json()).toEqual(body);
    expect((await acct.sim.stats()).requests_total).toBe(1);
    const ledger = await acct.settledLedger(2);
    const hitEntry = ledger.find((e) => e.cached)!;
    expect(hitEntry).toMatchObject({ status: "ok", completion_tokens: body.usage.completion_tokens });

    const fresh = await acct.chat(QUESTION, { "cache-control": "no-cache" });
    expect(fresh.headers.get("x-cache")).toBe("MISS");
    await fresh.text();
    expect((await acct.sim.stats()).requests_total).toBe(2);

    const unstored = await acct.chat(QUESTION, { "cache-control": "no-store" });
    expect(unstored.headers.get("x-cache")).toBe("MISS");
    await unstored.text();
    expect((await acct.sim.stats()).requests_total).toBe(3);
    await acct.settledLedger(4);
  });

  it("does not cache sampled requests unless asked to", async () => {
    const acct = await limitedAccount();
    const sampled = { messages: QUESTION.messages, max_tokens: 10 };
    await (await acct.chat(sampled)).text();
    await (await acct.chat(sampled)).text();
    expect((await acct.sim.stats()).requests_total).toBe(2);
    const optIn = { ...sampled, cache: { enabled: true } };
    await (await acct.chat(optIn)).text();
    const again = await acct.chat(optIn);
    expect(again.headers.get("x-cache")).toBe("HIT");
    await again.text();
    expect((await acct.sim.stats()).requests_total).toBe(3);
    await acct.settledLedger(4);
  });
});
