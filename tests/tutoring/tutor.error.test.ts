import { describe, expect, it } from "vitest";
import { errorOf } from "../helpers/api";
import { HALF, PROBLEM, hintBody, tutorAccount } from "./tutor-helpers";

describe("tutor requests refused before anything is generated or billed", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["an unknown mode", hintBody({}, { mode: "solve" }), "tutor.mode"],
    ["n > 1", hintBody({ n: 2 }), "n"],
    ["logprobs (they would carry the redacted tokens)", hintBody({ logprobs: true }), "logprobs"],
    ["tools", hintBody({ tools: [{ type: "function", function: { name: "f" } }] }), "tools"],
    ["background (its answer is read later, unguarded)", hintBody({ background: true }), "background"],
    ["a reference over 4 KiB", hintBody({}, { mode: "hint", reference_answer: "1".repeat(4097) }), "tutor.reference_answer"],
    ["an unknown tutor field", hintBody({}, { mode: "hint", reveal: true }), "tutor.reveal"],
    [
      "a last message that is not the student's",
      hintBody({ messages: [{ role: "user", content: PROBLEM }, { role: "assistant", content: "Try a sketch." }] }),
      "messages",
    ],
    [
      "check mode with no answer in the student's last message",
      { messages: [{ role: "user", content: PROBLEM }, { role: "user", content: "I am stuck, no idea where to start." }], tutor: { mode: "check", reference_answer: HALF } },
      "messages[1].content",
    ],
  ];
  for (const [what, body, param] of cases) {
    it(`refuses ${what} with a 400 naming ${param}`, async () => {
      const t = await tutorAccount();
      const res = await t.chat(body);
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.param).toBe(param);
      expect(error.type).toBe("invalid_request_error");
      expect((await t.sim.stats()).requests_total).toBe(0);
      expect(await t.ledger()).toEqual([]);
    });
  }

  it("refuses an Idempotency-Key (its generations are its own, none could replay the guarded answer)", async () => {
    const t = await tutorAccount();
    const res = await t.chat(hintBody(), { "idempotency-key": "k-1" });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).param).toBe("Idempotency-Key");
    expect((await t.sim.stats()).requests_total).toBe(0);
  });
});

describe("a hidden solve without a final answer", () => {
  it("is a 422 naming tutor.reference_answer, never a hint served unguarded; the solve stays billed", async () => {
    // A tokens-per-minute limit this low makes admission cut the solve's max_tokens, so it ends before its \boxed{}.
    const t = await tutorAccount([HALF], 1, { tokens_per_minute: 150 });
    const res = await t.chat(hintBody({}, { mode: "hint" }));
    expect(res.status).toBe(422);
    const error = await errorOf(res);
    expect(error).toMatchObject({ code: "tutor_reference_unavailable", param: "tutor.reference_answer" });
    const ledger = await t.settledLedger(1);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]!.request_id).toMatch(/-solve$/);
    expect((await t.sim.stats()).requests_total).toBe(1);
  });
});
