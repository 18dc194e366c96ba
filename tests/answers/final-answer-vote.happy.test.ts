/**
 * `final_answer` and `vote` through the whole stack (Worker, account and
 * generation objects, the simulator with its `final_answers` knob): JSON on
 * the direct path, streams, cache hits, coalesced joins, Idempotency-Key
 * replays, resumed streams and the generation object.
 */
import { describe, expect, it } from "vitest";
import type { VoteObject } from "../../shared/answers";
import { limitedAccount, type LimitedAccount } from "../helpers/limits";
import { jsonChunks, readEvents } from "../helpers/sse";

const ANSWERS = ["\\frac{1}{2}", "0.5", "3"];
/** {0, 1} vote together (0.5 = 1/2, not string-equal), {2} alone. */
const EXPECTED_VOTE: VoteObject = {
  answer: "\\frac{1}{2}",
  count: 2,
  of: 3,
  agreement: 2 / 3,
  groups: [
    { answer: "\\frac{1}{2}", count: 2, choices: [0, 1] },
    { answer: "3", count: 1, choices: [2] },
  ],
};

interface Choice {
  index: number;
  finish_reason: string | null;
  final_answer?: string | null;
  message?: { role: string; content: string };
  delta?: { content?: string };
  text?: string;
}
interface Body {
  choices: Choice[];
  vote?: VoteObject;
  usage?: unknown;
}

async function answering(): Promise<LimitedAccount> {
  const acct = await limitedAccount();
  await acct.sim.configure({ final_answers: ANSWERS, tokens_per_second: 2000 });
  return acct;
}

/** The stream's chunks: the finishing chunk of each choice, and the chunk with the vote. */
async function streamed(res: Response): Promise<{ chunks: Body[]; finals: Map<number, string | null | undefined>; vote: VoteObject | undefined }> {
  expect(res.status).toBe(200);
  const events = await readEvents(res);
  expect(events.data.at(-1)).toBe("[DONE]");
  const chunks = jsonChunks<Body>(events);
  const finals = new Map<number, string | null | undefined>();
  for (const chunk of chunks) for (const c of chunk.choices) if (c.finish_reason) finals.set(c.index, c.final_answer);
  const voteChunks = chunks.filter((c) => c.vote !== undefined);
  expect(voteChunks.length).toBeLessThanOrEqual(1);
  if (voteChunks[0]) {
    expect(voteChunks[0].choices).toEqual([]);
    // One last chunk before [DONE].
    expect(chunks.at(-1)).toBe(voteChunks[0]);
  }
  return { chunks, finals, vote: voteChunks[0]?.vote };
}

const finalsOf = (body: Body) => body.choices.map((c) => c.final_answer);
const QUESTION = { messages: [{ role: "user", content: "What is one half as a number?" }], max_tokens: 400 };

describe("final_answer and vote", () => {
  it("JSON on the direct path: final_answer on every choice, not in message; vote groups 1/2 with 0.5", async () => {
    const acct = await answering();
    const res = await acct.chat({ ...QUESTION, n: 3, vote: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-generation-id")).toBeNull();
    const body = (await res.json()) as Body;
    expect(finalsOf(body)).toEqual(ANSWERS);
    for (const c of body.choices) expect(Object.keys(c.message!).sort()).toEqual(["content", "role"]);
    expect(body.vote).toEqual(EXPECTED_VOTE);
    const [entry] = await acct.settledLedger(1);
    expect(entry).toMatchObject({ status: "ok", cached: false });
  });

  it("vote: {n: 3} sets n; without vote there is no vote field", async () => {
    const acct = await answering();
    const voted = (await (await acct.chat({ ...QUESTION, vote: { n: 3 } })).json()) as Body;
    expect(voted.choices).toHaveLength(3);
    expect(voted.vote).toEqual(EXPECTED_VOTE);
    const plain = (await (await acct.chat({ ...QUESTION, n: 2 })).json()) as Body;
    expect(finalsOf(plain)).toEqual(ANSWERS.slice(0, 2));
    expect(plain.vote).toBeUndefined();
  });

  it("a stream: the finishing chunk of each choice carries its final_answer, the vote comes last before [DONE]", async () => {
    const acct = await answering();
    const { finals, vote, chunks } = await streamed(await acct.chat({ ...QUESTION, n: 3, vote: true, stream: true, stream_options: { include_usage: true } }));
    expect([...finals.entries()].sort()).toEqual(ANSWERS.map((a, i) => [i, a]));
    expect(vote).toEqual(EXPECTED_VOTE);
    // The usage chunk comes before the vote.
    expect(chunks.at(-2)!.usage).toBeDefined();
    // No other chunk carries final_answer.
    for (const chunk of chunks) for (const c of chunk.choices) if (!c.finish_reason) expect(c.final_answer).toBeUndefined();
  });

  it("a cache hit and a coalesced join carry final_answer and vote; a request without vote shares the entry and gets none", async () => {
    const acct = await answering();
    const ask = { ...QUESTION, n: 3, temperature: 0, vote: true };
    const [a, b] = await Promise.all([acct.chat({ ...ask, stream: true }), acct.chat(ask)]);
    expect(new Set([a.headers.get("x-cache"), b.headers.get("x-cache")])).toEqual(new Set(["MISS", "COALESCED"]));
    const first = await streamed(a);
    expect(first.vote).toEqual(EXPECTED_VOTE);
    const joined = (await b.json()) as Body;
    expect(finalsOf(joined)).toEqual(ANSWERS);
    expect(joined.vote).toEqual(EXPECTED_VOTE);

    const hit = await acct.chat({ ...ask, stream: true });
    expect(hit.headers.get("x-cache")).toBe("HIT");
    const replayed = await streamed(hit);
    expect([...replayed.finals.entries()].sort()).toEqual(ANSWERS.map((a, i) => [i, a]));
    expect(replayed.vote).toEqual(EXPECTED_VOTE);

    const { vote: _vote, ...unvoted } = ask;
    const plainHit = await acct.chat(unvoted);
    expect(plainHit.headers.get("x-cache")).toBe("HIT");
    const plain = (await plainHit.json()) as Body;
    expect(finalsOf(plain)).toEqual(ANSWERS);
    expect(plain.vote).toBeUndefined();
    expect((await acct.sim.stats()).requests_total).toBe(1);
    await acct.settledLedger(4);
  });

  it("a hit that asks for vote on an entry made without one gets it (computed once, kept with the run)", async () => {
    const acct = await answering();
    const ask = { ...QUESTION, n: 3, temperature: 0 };
    expect(((await (await acct.chat(ask)).json()) as Body).vote).toBeUndefined();
    const hit = await acct.chat({ ...ask, vote: true });
    expect(hit.headers.get("x-cache")).toBe("HIT");
    expect(((await hit.json()) as Body).vote).toEqual(EXPECTED_VOTE);
    const id = hit.headers.get("x-generation-id")!;
    const generation = (await (await acct.a.withKey(acct.key, `/v1/generations/${id}`)).json()) as { result: Body };
    expect(finalsOf(generation.result)).toEqual(ANSWERS);
    expect(generation.result.vote).toEqual(EXPECTED_VOTE);
  });

  it("an Idempotency-Key replay carries final_answer and vote, as JSON and as a stream", async () => {
    const acct = await answering();
    const headers = { "idempotency-key": "vote-replay-1" };
    const ask = { ...QUESTION, n: 3, vote: true };
    const first = (await (await acct.chat(ask, headers)).json()) as Body;
    await acct.settledLedger(1);
    const again = await acct.chat(ask, headers);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(first);
    expect(first.vote).toEqual(EXPECTED_VOTE);

    const streamHeaders = { "idempotency-key": "vote-replay-2" };
    const streamAsk = { ...ask, stream: true };
    const original = await streamed(await acct.chat(streamAsk, streamHeaders));
    await acct.settledLedger(2);
    const replay = await acct.chat(streamAsk, streamHeaders);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const replayed = await streamed(replay);
    expect([...replayed.finals.entries()].sort()).toEqual([...original.finals.entries()].sort());
    expect(replayed.vote).toEqual(EXPECTED_VOTE);
  });

  it("a resumed stream and the generation object carry final_answer and vote", async () => {
    const acct = await answering();
    const res = await acct.chat({ ...QUESTION, n: 3, vote: true, stream: true });
    const id = res.headers.get("x-generation-id")!;
    await streamed(res);
    const resumed = await streamed(await acct.a.withKey(acct.key, `/v1/generations/${id}/stream`));
    expect([...resumed.finals.values()].sort()).toEqual([...ANSWERS].sort());
    expect(resumed.vote).toEqual(EXPECTED_VOTE);
    // From the middle (Last-Event-ID): still the vote, once, before [DONE].
    const tail = await streamed(await acct.a.withKey(acct.key, `/v1/generations/${id}/stream`, { headers: { "last-event-id": "5" } }));
    expect(tail.vote).toEqual(EXPECTED_VOTE);
    const generation = (await (await acct.a.withKey(acct.key, `/v1/generations/${id}`)).json()) as { result: Body };
    expect(finalsOf(generation.result)).toEqual(ANSWERS);
    expect(generation.result.vote).toEqual(EXPECTED_VOTE);
  });

  it("text completions carry final_answer and vote; a cut answer's final_answer is null", async () => {
    const acct = await answering();
    const completion = (body: Record<string, unknown>) =>
      acct.a.withKey(acct.key, "/v1/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "limo", prompt: "One half is", ...body }) });
    const body = (await (await completion({ max_tokens: 400, vote: { n: 3 } })).json()) as Body;
    expect(finalsOf(body)).toEqual(ANSWERS);
    expect(body.vote).toEqual(EXPECTED_VOTE);
    const stream = await streamed(await completion({ max_tokens: 400, n: 3, vote: true, stream: true }));
    expect([...stream.finals.entries()].sort()).toEqual(ANSWERS.map((a, i) => [i, a]));
    expect(stream.vote).toEqual(EXPECTED_VOTE);
    const cut = (await (await completion({ max_tokens: 3, n: 2, vote: true })).json()) as Body;
    expect(finalsOf(cut)).toEqual([null, null]);
    expect(cut.vote).toEqual({ answer: null, count: 0, of: 2, agreement: 0, groups: [] });
  });

  it("a multi-turn chat that sends the returned message back works (nothing unknown in message)", async () => {
    const acct = await answering();
    const first = (await (await acct.chat(QUESTION)).json()) as Body;
    const res = await acct.chat({ messages: [...QUESTION.messages, first.choices[0]!.message, { role: "user", content: "And twice that?" }], max_tokens: 400 });
    expect(res.status).toBe(200);
    expect(finalsOf((await res.json()) as Body)).toEqual([ANSWERS[0]]);
  });
});
