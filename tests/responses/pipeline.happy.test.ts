/**
 * Everything chat applies, a response gets unchanged: rate-limit headers and
 * limits, Idempotency-Key (the same response, one record), the cache (a hit
 * is billed cached), `vote` (one output message per sample, the vote
 * top-level), the end user on the ledger record, and test-mode keys.
 */
import { describe, expect, it } from "vitest";
import type { ResponseObject } from "../../shared/openai-responses";
import { api, errorOf } from "../helpers/api";
import { limitedAccount } from "../helpers/limits";
import { newSim } from "../helpers/sim";
import { simBackends } from "../helpers/api";
import { responseEvents, responsesClient } from "./client";

const json = async (res: Response) => (await res.json()) as ResponseObject;

describe("a response goes through the chat pipeline", () => {
  it("carries the rate-limit headers and is refused at the account's limit", async () => {
    const client = responsesClient(await limitedAccount({ requests_per_minute: 1 }));
    const first = await client.create({ input: "What is 1+1?" });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("1");
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    const second = await client.create({ input: "What is 1+1?" });
    expect(second.status).toBe(429);
    expect((await errorOf(second)).code).toBe("rate_limit_exceeded");
    expect(await client.account.settledLedger(1)).toHaveLength(1);
  });

  it("answers an Idempotency-Key retry with the same response and one ledger record", async () => {
    const client = responsesClient(await limitedAccount());
    const headers = { "idempotency-key": "retry-me-1" };
    const first = await json(await client.create({ input: "What is 8+8?" }, headers));
    await client.account.settledLedger(1);
    const again = await client.create({ input: "What is 8+8?" }, headers);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const second = await json(again);
    expect(second.id).toBe(first.id);
    expect(second.output_text).toBe(first.output_text);
    expect(second.usage).toEqual(first.usage);
    expect(await client.account.ledger()).toHaveLength(1);
    expect((await client.account.sim.stats()).requests_total).toBe(1);
  });

  it("serves a cache hit as a response billed cached", async () => {
    const client = responsesClient(await limitedAccount());
    const ask = { input: "What is 4 squared?", temperature: 0, cache: { enabled: true } };
    const first = await client.create(ask);
    expect(first.headers.get("x-cache")).toBe("MISS");
    const a = await json(first);
    const second = await client.create(ask);
    expect(second.headers.get("x-cache")).toBe("HIT");
    const b = await json(second);
    expect(b.id).not.toBe(a.id);
    expect(b.output_text).toBe(a.output_text);
    const ledger = await client.account.settledLedger(2);
    expect(ledger.map((r) => r.cached).sort()).toEqual([false, true]);
    expect(ledger.every((r) => r.endpoint === "responses")).toBe(true);
  });

  it("votes over samples: one output message each, the vote and its answer top-level", async () => {
    const client = responsesClient(await limitedAccount());
    const body = await json(await client.create({ input: "What is 7 times 6?", vote: { n: 3 } }));
    expect(body.output).toHaveLength(3);
    expect(new Set(body.output.map((o) => o.id)).size).toBe(3);
    expect(body.vote).toMatchObject({ of: 3 });
    expect(body.final_answer).toBe(body.vote!.answer);
  });

  it("names the end user on the ledger record from safety_identifier", async () => {
    const client = responsesClient(await limitedAccount());
    await client.create({ input: "What is 2+3?", safety_identifier: "student-42" });
    const [record] = await client.account.settledLedger(1);
    expect(record).toMatchObject({ end_user: "student-42", endpoint: "responses" });
  });

  it("answers the development (test-mode) key from the simulator", async () => {
    const sim = newSim();
    const res = await api({ BACKENDS: simBackends(sim.url) }).post("/v1/responses", { model: "limo", input: "What is 1+2?" });
    expect(res.status).toBe(200);
    expect((await json(res)).status).toBe("completed");
  });
});

describe("a tutor mode through the Responses API", () => {
  it("answers a hint with the tutor's result and no final answer, JSON and streamed, its generations recorded as responses", async () => {
    const client = responsesClient(await limitedAccount());
    const ask = { input: "Solve 2x + 3 = 11. I am stuck.", tutor: { mode: "hint", reference_answer: "4" } };
    const body = await json(await client.create(ask));
    expect(body.status).toMatch(/^(completed|incomplete)$/);
    expect(body.tutor).toMatchObject({ mode: "hint", reference_source: "request" });
    expect(body.final_answer).toBeNull();
    const streamed = await responseEvents(await client.create({ ...ask, stream: true }));
    const last = streamed.events.at(-1)!.response!;
    expect(last.tutor).toMatchObject({ mode: "hint" });
    expect(last.final_answer).toBeNull();
    const ledger = await client.account.settledLedger(2);
    expect(ledger.every((r) => r.endpoint === "responses")).toBe(true);
  });
});
