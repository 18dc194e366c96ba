/**
 * The one place billing is decided (worker/accounts/ledger/settlement.ts),
 * over every way a generation ends, on the direct path and in a generation
 * object alike: the record says what the client was given.
 */
import { describe, expect, it } from "vitest";
import type { ChatCompletion, Usage } from "../../shared/openai";
import { CACHE_BACKEND, checkSettlement, givenTokens, settlement, type GenerationEnd, type SettledRequest } from "../../worker/accounts/ledger/settlement";

const STARTED_AT = 1_000_000;
const NOW = STARTED_AT + 5_000;
const USAGE: Usage = { prompt_tokens: 120, completion_tokens: 800, total_tokens: 920 };
const ANSWER = { id: "chatcmpl-1", object: "chat.completion", created: 1, model: "limo", choices: [], usage: USAGE } as unknown as ChatCompletion;

const request = (overrides: Partial<SettledRequest> = {}): SettledRequest => ({
  requestId: "req_1",
  keyId: "key_1",
  mode: "live",
  model: "limo",
  promptTokensEstimate: 150,
  startedAt: STARTED_AT,
  ...overrides,
});

const end = (overrides: Partial<GenerationEnd> & Pick<GenerationEnd, "status">): GenerationEnd => ({
  usage: null,
  givenTokens: 0,
  givenAll: false,
  cached: false,
  backend: "gpu-a",
  firstTokenAt: STARTED_AT + 300,
  ...overrides,
});

describe("settlement: what each way of ending bills", () => {
  it("ok: the backend's usage chunk, from the backend that answered, with time to first token and duration", () => {
    const record = settlement(request(), end({ status: "ok", usage: USAGE, givenTokens: 800, givenAll: true }), NOW);
    expect(record).toMatchObject({
      requestId: "req_1",
      keyId: "key_1",
      model: "limo",
      mode: "live",
      status: "ok",
      promptTokens: 120,
      completionTokens: 800,
      cached: false,
      backend: "gpu-a",
      ttftMs: 300,
      durationMs: 5_000,
      now: NOW,
    });
    expect(record.idempotency).toBeUndefined();
  });

  it("ok without a usage chunk: no prompt, the tokens given", () => {
    expect(settlement(request(), end({ status: "ok", givenTokens: 7, givenAll: true }), NOW)).toMatchObject({ promptTokens: 0, completionTokens: 7 });
  });

  it("client_disconnected while streaming: the prompt estimate and the tokens relayed before it left", () => {
    const record = settlement(request(), end({ status: "client_disconnected", givenTokens: givenTokens(true, 42) }), NOW);
    expect(record).toMatchObject({ status: "client_disconnected", promptTokens: 150, completionTokens: 42, cached: false });
  });

  it("client_disconnected without streaming: the prompt estimate and nothing short of the whole answer", () => {
    const record = settlement(request(), end({ status: "client_disconnected", givenTokens: givenTokens(false, 42) }), NOW);
    expect(record).toMatchObject({ promptTokens: 150, completionTokens: 0 });
  });

  it("client_disconnected after the generation completed: the backend's prompt count, and its completion count only if every event was given", () => {
    const all = settlement(request(), end({ status: "client_disconnected", usage: USAGE, givenTokens: 800, givenAll: true }), NOW);
    expect(all).toMatchObject({ promptTokens: 120, completionTokens: 800 });
    const part = settlement(request(), end({ status: "client_disconnected", usage: USAGE, givenTokens: 310, givenAll: false }), NOW);
    expect(part).toMatchObject({ promptTokens: 120, completionTokens: 310 });
  });

  it("a cancelled generation is a disconnect: the causing request pays the prompt estimate and what the run produced", () => {
    const record = settlement(request(), end({ status: "client_disconnected", givenTokens: 95 }), NOW);
    expect(record).toMatchObject({ status: "client_disconnected", promptTokens: 150, completionTokens: 95, cached: false, backend: "gpu-a" });
  });

  it.each(["backend_error", "timeout"] as const)("%s: no prompt, only the tokens given (none to a client that does not stream)", (status) => {
    expect(settlement(request(), end({ status, givenTokens: givenTokens(true, 12) }), NOW)).toMatchObject({ status, promptTokens: 0, completionTokens: 12 });
    expect(settlement(request(), end({ status, givenTokens: givenTokens(false, 12) }), NOW)).toMatchObject({ status, promptTokens: 0, completionTokens: 0 });
    expect(settlement(request(), end({ status, usage: USAGE, givenTokens: 0 }), NOW)).toMatchObject({ promptTokens: 0, completionTokens: 0 });
  });

  it("a cache hit: cached, from the cache, no time to first token, the stored usage", () => {
    const record = settlement(request(), end({ status: "ok", usage: USAGE, givenTokens: 800, givenAll: true, cached: true }), NOW);
    expect(record).toMatchObject({ status: "ok", cached: true, backend: CACHE_BACKEND, ttftMs: null, promptTokens: 120, completionTokens: 800 });
  });

  it("a coalesced request that left early: cached, the prompt estimate and what it was given", () => {
    const record = settlement(request(), end({ status: "client_disconnected", givenTokens: givenTokens(true, 30), cached: true }), NOW);
    expect(record).toMatchObject({ cached: true, backend: CACHE_BACKEND, ttftMs: null, promptTokens: 150, completionTokens: 30 });
  });

  it("a background request whose run failed: what the run stored for it", () => {
    const record = settlement(request(), end({ status: "backend_error", givenTokens: givenTokens(true, 64) }), NOW);
    expect(record).toMatchObject({ status: "backend_error", promptTokens: 0, completionTokens: 64 });
  });

  it("a request before any token: no time to first token; a clock that ran backwards never makes it negative", () => {
    expect(settlement(request(), end({ status: "backend_error", firstTokenAt: null }), NOW).ttftMs).toBeNull();
    expect(settlement(request(), end({ status: "ok", usage: USAGE, firstTokenAt: STARTED_AT - 5 }), NOW).ttftMs).toBe(0);
  });

  it("an Idempotency-Key stores the whole answer after ok, and is released after anything else", () => {
    const keyed = request({ idempotencyKey: "idem-1" });
    let asked = 0;
    const answer = () => {
      asked++;
      return ANSWER;
    };
    const ok = settlement(keyed, end({ status: "ok", usage: USAGE, givenAll: true, answer }), NOW);
    expect(ok.idempotency).toEqual({ key: "idem-1", response: JSON.stringify(ANSWER) });
    for (const status of ["client_disconnected", "backend_error", "timeout"] as const) {
      expect(settlement(keyed, end({ status, answer }), NOW).idempotency).toEqual({ key: "idem-1", response: null });
    }
    expect(settlement(keyed, end({ status: "ok", usage: USAGE, answer: () => null }), NOW).idempotency).toEqual({ key: "idem-1", response: null });
    // The answer is assembled only when it is kept.
    expect(asked).toBe(1);
  });

  it("names the endpoint the request called (null when the caller does not say), an answer check's being answers.check", () => {
    expect(settlement(request({ endpoint: "responses" }), end({ status: "ok", usage: USAGE }), NOW).endpoint).toBe("responses");
    expect(settlement(request(), end({ status: "ok", usage: USAGE }), NOW).endpoint).toBeNull();
    expect(checkSettlement({ requestId: "req_2", keyId: "key_1", mode: "live", startedAt: STARTED_AT }, "ok", NOW).endpoint).toBe("answers.check");
  });
});
