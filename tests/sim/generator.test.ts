/**
 * @module sim/generator.test
 * The simulator's pure parts: the answer generator, its tokenizer, the
 * max_tokens / stop cut, prompt counting and config patches.
 */
import { describe, expect, it } from "vitest";
import { ANSWER_MIN_TOKENS, generateAnswer } from "../../gpu/sim/answer";
import { applyConfigPatch, BASE_SIM_CONFIG, parseConfigPatch } from "../../gpu/sim/config";
import { cut } from "../../gpu/sim/plan";
import { countChatTokens, countTextTokens, tokenize } from "../../gpu/sim/tokenizer";
import { estimateChatTokens, estimateTextTokens } from "../../shared/tokens";

const spec = (seedKey: string) => ({ seedKey, answerKey: "GAIR/LIMO\u0000q", question: "What is the sum of the first 10 primes?" });

describe("answer generator", () => {
  it("is a pure function of its seed", () => {
    expect(generateAnswer(spec("a"))).toBe(generateAnswer(spec("a")));
    expect(generateAnswer(spec("a"))).not.toBe(generateAnswer(spec("b")));
  });

  it("writes LIMO-shaped reasoning of 80 to 400 tokens that ends in a boxed answer", () => {
    for (let i = 0; i < 300; i++) {
      const text = generateAnswer(spec(`seed-${i}`));
      const n = tokenize(text).length;
      expect(n).toBeGreaterThanOrEqual(ANSWER_MIN_TOKENS);
      expect(n).toBeLessThanOrEqual(400);
      expect(text).toMatch(/^(Okay|Alright)/);
      expect(text).toMatch(/Step 1:/);
      expect(text).toMatch(/Therefore, the final answer is \\boxed\{\d+\}\.$/);
    }
  });

  it("gives the same boxed answer for the same prompt whatever the sampling", () => {
    const boxed = (t: string) => /\\boxed\{(\d+)\}/.exec(t)?.[1];
    expect(boxed(generateAnswer(spec("x")))).toBe(boxed(generateAnswer(spec("y"))));
  });

  it("keeps reasoning as long as asked (ignore_eos / min_tokens)", () => {
    expect(tokenize(generateAnswer({ ...spec("long"), minTokens: 5000 })).length).toBeGreaterThanOrEqual(5000);
  });
});

describe("tokenizer", () => {
  it("splits into words with their leading whitespace, losing nothing", () => {
    expect(tokenize("Okay, let me\n\nStep 1: x = 2.  ")).toEqual(["Okay,", " let", " me", "\n\nStep", " 1:", " x", " =", " 2.", "  "]);
    const text = generateAnswer(spec("roundtrip"));
    expect(tokenize(text).join("")).toBe(text);
    expect(tokenize(text).every((t) => t.length > 0)).toBe(true);
  });

  it("never counts a prompt above the Worker's conservative estimate", () => {
    for (const text of ["", "a", "What is 2+2?", "é".repeat(1000), "x".repeat(12_345), "日本語の問題"]) {
      expect(countTextTokens(text)).toBeLessThanOrEqual(estimateTextTokens(text));
      expect(countChatTokens([text, text])).toBeLessThanOrEqual(estimateChatTokens([{ content: text }, { content: text }]));
    }
    expect(countChatTokens(["hello world!"])).toBe(3 + 4 + 3);
  });
});

describe("max_tokens and stop", () => {
  const text = "Okay, let me think. Step 1: add. Step 2: check. Therefore, the final answer is \\boxed{7}.";

  it("ends naturally with finish_reason stop and no stop_reason", () => {
    expect(cut(text, 1000, [])).toEqual({ tokens: tokenize(text), finishReason: "stop", stopReason: null });
  });

  it("cuts at max_tokens with finish_reason length", () => {
    const r = cut(text, 3, []);
    expect(r).toEqual({ tokens: ["Okay,", " let", " me"], finishReason: "length", stopReason: null });
  });

  it("cuts before the earliest stop string and names it", () => {
    const r = cut(text, 1000, ["Therefore", "Step 2"]);
    expect(r.tokens.join("")).toBe("Okay, let me think. Step 1: add. ");
    expect(r).toMatchObject({ finishReason: "stop", stopReason: "Step 2" });
    expect(cut(text, 1000, ["Step 2"], true).tokens.join("")).toBe("Okay, let me think. Step 1: add. Step 2");
  });

  it("ignores a stop string beyond max_tokens", () => {
    expect(cut(text, 4, ["Step 2"])).toMatchObject({ finishReason: "length", stopReason: null });
  });
});

describe("config patches", () => {
  it("accepts any subset, with null meaning default", () => {
    const p = parseConfigPatch({ ttft_ms: 100, max_concurrent: 2, hang: true });
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    const c = applyConfigPatch(BASE_SIM_CONFIG, p.patch, BASE_SIM_CONFIG);
    expect(c).toMatchObject({ ttft_ms: 100, max_concurrent: 2, hang: true, tokens_per_second: 0 });
    const back = parseConfigPatch({ ttft_ms: null, hang: null });
    expect(back.ok && applyConfigPatch(c, back.patch, BASE_SIM_CONFIG)).toMatchObject({ ttft_ms: 0, hang: false, max_concurrent: 2 });
  });

  it.each([[{ nope: 1 }], [{ ttft_ms: "1" }], [{ fail_status: 200 }], [{ max_concurrent: 0 }], [[]], ["x"]])("refuses %j", (body) => {
    expect(parseConfigPatch(body).ok).toBe(false);
  });
});
