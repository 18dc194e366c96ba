import { describe, expect, it } from "vitest";
import type { ChatCompletion, ChatCompletionChunk } from "../../shared/openai";
import { errorOf } from "../helpers/api";
import { limitedAccount } from "../helpers/limits";
import { jsonChunks, readEvents } from "../helpers/sse";

describe("Idempotency-Key", () => {
  it("returns the same answer to a retry, billed once, without a second generation", async () => {
    const acct = await limitedAccount();
    const first = await acct.chat({ max_tokens: 20 }, { "idempotency-key": "retry-1" });
    expect(first.status).toBe(200);
    const body = (await first.json()) as ChatCompletion;
    await acct.settledLedger(1);
    const again = await acct.chat({ max_tokens: 20 }, { "idempotency-key": "retry-1" });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(body);
    expect(await acct.ledger()).toHaveLength(1);
    expect((await acct.sim.stats()).requests_total).toBe(1);
  });

  it("replays a streamed answer as a stream that adds up to the same text", async () => {
    const acct = await limitedAccount();
    const req = { max_tokens: 15, stream: true, stream_options: { include_usage: true } };
    const original = jsonChunks<ChatCompletionChunk>(await readEvents(await acct.chat(req, { "idempotency-key": "s-1" })));
    await acct.settledLedger(1);
    const replayed = await acct.chat(req, { "idempotency-key": "s-1" });
    const events = await readEvents(replayed);
    expect(events.data.at(-1)).toBe("[DONE]");
    const chunks = jsonChunks<ChatCompletionChunk>(events);
    const text = (cs: ChatCompletionChunk[]) => cs.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text(chunks)).toBe(text(original));
    expect(chunks.at(-1)!.usage).toEqual(original.at(-1)!.usage);
    expect(await acct.ledger()).toHaveLength(1);
  });

  it("refuses the same key with a different body, and a key still in progress", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ tokens_per_second: 100 });
    const running = acct.chat({ max_tokens: 30 }, { "idempotency-key": "k" });
    // Poll until the first request holds the key, then race it.
    let conflict: Response | undefined;
    for (let i = 0; i < 100 && !conflict; i++) {
      const res = await acct.chat({ max_tokens: 30 }, { "idempotency-key": "k" });
      if (res.status === 409) conflict = res;
      else await res.text();
    }
    expect(conflict?.status).toBe(409);
    expect((await errorOf(conflict!)).code).toBe("conflict");
    expect((await running).status).toBe(200);
    const mismatch = await acct.chat({ max_tokens: 31 }, { "idempotency-key": "k" });
    expect(mismatch.status).toBe(400);
    expect(await errorOf(mismatch)).toMatchObject({ param: "Idempotency-Key" });
  });

  it("lets a retry run again after the first attempt failed", async () => {
    const acct = await limitedAccount();
    await acct.sim.configure({ fail_status: 503 });
    expect((await acct.chat({ max_tokens: 5 }, { "idempotency-key": "f" })).status).toBe(503);
    await acct.settledLedger(1);
    await acct.sim.configure({ fail_status: null });
    const retry = await acct.chat({ max_tokens: 5 }, { "idempotency-key": "f" });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
  });

  it("refuses a malformed key", async () => {
    const acct = await limitedAccount();
    const res = await acct.chat({ max_tokens: 5 }, { "idempotency-key": "x".repeat(300) });
    expect(res.status).toBe(400);
    expect((await acct.sim.stats()).requests_total).toBe(0);
  });
});
