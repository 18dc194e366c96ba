/**
 * The soak's pure parts (scripts/soak-reconcile.ts): options, SSE splitting,
 * token counting and the reconciliation rules. The soak itself is `npm run soak`.
 */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_DISCONNECT_SLACK,
  contentTokens,
  parseSoakArgs,
  prng,
  reconcile,
  reconcileClean,
  splitSse,
  type ClientRecord,
  type LedgerRecord,
  type SimCounters,
} from "../../scripts/soak-reconcile";

const client = (over: Partial<ClientRecord>): ClientRecord => ({
  seq: 1,
  account: "a",
  endpoint: "chat",
  stream: true,
  includeUsage: true,
  n: 1,
  maxTokens: 10,
  temperature: 0.7,
  requestId: "req_1",
  status: 200,
  xCache: "MISS",
  outcome: "ok",
  usage: { prompt_tokens: 5, completion_tokens: 10 },
  seen: 10,
  phase: "chaos",
  ...over,
});
const record = (over: Partial<LedgerRecord>): LedgerRecord => ({
  request_id: "req_1",
  account_id: "acct",
  prompt_tokens: 5,
  completion_tokens: 10,
  cached: false,
  status: "ok",
  ...over,
});
const sim = (over: Partial<SimCounters> = {}): SimCounters => ({
  requests_total: 1,
  completed_total: 1,
  aborted_total: 0,
  errored_total: 0,
  tokens_generated_total: 10,
  prompt_tokens_total: 5,
  in_flight: 0,
  ...over,
});

describe("soak options and helpers", () => {
  it("parses options, with defaults", () => {
    expect(parseSoakArgs(["--duration", "60", "--concurrency=4", "--seed", "9"])).toMatchObject({ durationSeconds: 60, concurrency: 4, seed: 9, disconnectSlack: DEFAULT_DISCONNECT_SLACK });
    expect(parseSoakArgs([]).durationSeconds).toBe(120);
    expect(() => parseSoakArgs(["--bogus"])).toThrow(/unknown option/);
    expect(() => parseSoakArgs(["--duration", "x"])).toThrow(/whole number/);
  });

  it("is deterministic for a seed", () => {
    const a = prng(42);
    const b = prng(42);
    expect(Array.from({ length: 5 }, () => a.int(1, 100))).toEqual(Array.from({ length: 5 }, () => b.int(1, 100)));
  });

  it("splits SSE events and counts content tokens", () => {
    const { data, rest } = splitSse('id: 1\ndata: {"choices":[{"delta":{"content":"a"}}]}\n\n: keep-alive\n\ndata: [DONE]\n\ndata: {"x"');
    expect(data).toEqual(['{"choices":[{"delta":{"content":"a"}}]}', "[DONE]"]);
    expect(rest).toBe('data: {"x"');
    expect(contentTokens({ choices: [{ delta: { content: "" } }, { delta: { content: "x" } }] })).toBe(1);
    expect(contentTokens({ choices: [{ text: "y" }] })).toBe(1);
    expect(contentTokens({ choices: [], usage: {} })).toBe(0);
  });
});

describe("reconcile", () => {
  it("passes a consistent run", () => {
    expect(reconcile([client({})], [record({})], sim(), 30).discrepancies).toEqual([]);
  });

  it("flags a missing record, a duplicate, and a record for a 429", () => {
    expect(reconcile([client({})], [], sim({ tokens_generated_total: 0, completed_total: 0 }), 30).discrepancies.map((d) => d.check)).toContain("a");
    expect(reconcile([client({})], [record({}), record({})], sim({ tokens_generated_total: 20, completed_total: 2 }), 30).discrepancies[0]!.check).toBe("a");
    const refused = client({ outcome: "http_429", status: 429, usage: null, seen: 0 });
    expect(reconcile([refused], [record({})], sim(), 30).discrepancies.some((d) => /not admitted/.test(d.message))).toBe(true);
  });

  it("checks usage equality and disconnect bounds", () => {
    expect(reconcile([client({})], [record({ completion_tokens: 9 })], sim({ tokens_generated_total: 9 }), 30).discrepancies[0]!.check).toBe("b");
    const left = client({ outcome: "disconnected", usage: null, seen: 4, n: 2 });
    const billed = (completion: number) => record({ status: "client_disconnected", completion_tokens: completion });
    expect(reconcile([left], [billed(6)], sim({ tokens_generated_total: 20, completed_total: 1 }), 30).discrepancies).toEqual([]);
    expect(reconcile([left], [billed(7)], sim({ tokens_generated_total: 20, completed_total: 1 }), 30).discrepancies[0]!.check).toBe("b");
    expect(reconcile([left], [billed(7)], sim({ tokens_generated_total: 20, completed_total: 1 }), 30, 1).discrepancies).toEqual([]);
    expect(reconcile([left], [billed(3)], sim({ tokens_generated_total: 20, completed_total: 1 }), 30).discrepancies[0]!.check).toBe("b");
  });

  it("bounds the simulator identity and requires nothing in flight", () => {
    // An ok record of 10 and an abandoned one billed 4 of a generation that may have made up to 20.
    const clients = [client({}), client({ seq: 2, requestId: "req_2", outcome: "disconnected", usage: null, seen: 4, maxTokens: 20 })];
    const ledger = [record({}), record({ request_id: "req_2", status: "client_disconnected", completion_tokens: 4 })];
    expect(reconcile(clients, ledger, sim({ tokens_generated_total: 30 }), 30).discrepancies).toEqual([]);
    expect(reconcile(clients, ledger, sim({ tokens_generated_total: 31 }), 30).discrepancies[0]!.check).toBe("c");
    expect(reconcile(clients, ledger, sim({ tokens_generated_total: 13 }), 30).discrepancies[0]!.check).toBe("c");
    expect(reconcile(clients, ledger, sim({ tokens_generated_total: 30, in_flight: 1 }), 30).discrepancies[0]!.check).toBe("d");
  });

  it("checks the clean phase exactly", () => {
    const before = sim({ tokens_generated_total: 100, completed_total: 3, prompt_tokens_total: 50 });
    expect(reconcileClean([client({})], [record({})], before, sim({ tokens_generated_total: 110, completed_total: 4, prompt_tokens_total: 55 }))).toEqual([]);
    expect(reconcileClean([client({})], [record({})], before, sim({ tokens_generated_total: 111, completed_total: 4, prompt_tokens_total: 55 }))).toHaveLength(1);
  });
});
