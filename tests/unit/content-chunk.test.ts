/**
 * The JSON path's fast read of a content chunk (worker/streams/content-chunk)
 * against the full parse it stands in for: whenever the fast path answers, it
 * must be what `JSON.parse` and `CompletionAssembler#addChunk` take from the
 * event, and a whole answer assembled with it must equal the one assembled
 * without it, for vLLM's shapes and for everything near them.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Endpoint } from "../../worker/generations/prepare";
import { CompletionAssembler } from "../../worker/streams/completion-assembler";
import { readContentChunk } from "../../worker/streams/content-chunk";
import { classifyEvent } from "../../worker/streams/stream-events";
import { sseData } from "../../shared/sse";

const head = (endpoint: Endpoint) => ({
  id: endpoint === "chat" ? "chatcmpl-9f2c" : "cmpl-9f2c",
  object: endpoint === "chat" ? "chat.completion.chunk" : "text_completion",
  created: 1764590000,
  model: "GAIR/LIMO",
});

/** vLLM's content chunk, key order as its serving code writes it. */
function vllmChunk(endpoint: Endpoint, index: number, text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const choice =
    endpoint === "chat"
      ? { index, delta: { content: text }, logprobs: null, finish_reason: null, token_ids: null, ...extra }
      : { index, text, logprobs: null, finish_reason: null, stop_reason: null, prompt_token_ids: null, token_ids: null, ...extra };
  return { ...head(endpoint), choices: [choice] };
}

/** A JSON string literal with every `escapeEvery`-th character written as a \u escape (valid JSON that JSON.stringify never writes). */
function jsonString(value: string, escapeEvery: number): string {
  const json = JSON.stringify(value);
  if (escapeEvery === 0) return json;
  let out = '"';
  let n = 0;
  for (let i = 1; i < json.length - 1; i++) {
    const ch = json[i]!;
    if (ch === "\\") {
      out += ch + json[i + 1]!;
      i++;
    } else if (++n % escapeEvery === 0) out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Stands for the chunk's text while the rest is stringified. */
const PLACEHOLDER = "\u0001text\u0001";

/** The chunk's JSON with its text written by jsonString. */
function stringifyWithEscapes(chunk: Record<string, unknown>, text: string, escapeEvery: number): string {
  return JSON.stringify(chunk).replace(JSON.stringify(PLACEHOLDER), jsonString(text, escapeEvery));
}

const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: fc.constantFrom('"', "\\", "\n", "\t", "\u0000", "\u001f", "\u2028", "é", "😀", "\ud800", "{", "}", "\\boxed{", "usage", '"usage"', '"error"'), maxLength: 8 }),
  fc.constantFrom("", " the", "\\boxed{5050}", 'he said "usage"'),
);

/** Changes that make a chunk something the fast path must not claim (or must claim identically). */
const perturbation = fc.oneof(
  { arbitrary: fc.constant<Record<string, unknown>>({}), weight: 16 },
  fc.constant({ finish_reason: "stop" }),
  fc.constant({ finish_reason: "length", stop_reason: null }),
  fc.constant({ stop_reason: 42 }),
  fc.constant({ final_answer: null }),
  fc.constant({ final_answer: "5050" }),
  fc.constant({ logprobs: { content: [{ token: "x", logprob: -0.1, bytes: [120], top_logprobs: [] }] } }),
  fc.constant({ logprobs: { text_offset: [0], token_logprobs: [-0.1], tokens: ["x"], top_logprobs: [null] } }),
  fc.constant({ tool_calls: [] }),
);

const topLevel = fc.oneof(
  { arbitrary: fc.constant<Record<string, unknown>>({}), weight: 12 },
  fc.constant({ usage: null }),
  fc.constant({ usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }),
  fc.constant({ system_fingerprint: "fp" }),
  fc.constant({ error: { message: "boom", type: "InternalServerError", param: null, code: 500 } }),
);

/** One event: mostly vLLM's exact content chunk, sometimes perturbed, sometimes written differently. */
const event = (endpoint: Endpoint) =>
  fc
    .record({
      index: fc.oneof(fc.constant(0), fc.nat(3), fc.nat()),
      text,
      choice: perturbation,
      top: topLevel,
      escapeEvery: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
      form: fc.oneof({ arbitrary: fc.constant("vllm"), weight: 10 }, fc.constantFrom("spaced", "role", "reordered", "two-choices", "no-space")),
    })
    .map(({ index, text, choice, top, escapeEvery, form }) => {
      let chunk: Record<string, unknown> = { ...vllmChunk(endpoint, index, PLACEHOLDER, choice), ...top };
      if (form === "role" && endpoint === "chat") chunk = { ...chunk, choices: [{ index, delta: { role: "assistant", content: PLACEHOLDER }, logprobs: null, finish_reason: null }] };
      if (form === "reordered") chunk = { choices: chunk.choices, ...head(endpoint) };
      if (form === "two-choices") chunk = { ...chunk, choices: [...(chunk.choices as unknown[]), ...(vllmChunk(endpoint, index + 1, text).choices as unknown[])] };
      let json = stringifyWithEscapes(chunk, text, escapeEvery);
      if (form === "spaced") json = json.replace('"choices":', '"choices": ');
      return form === "no-space" ? `data:${json}` : `data: ${json}`;
    });

/** The path without the fast read: classify, then JSON.parse the chunk. */
function feedFull(assembler: CompletionAssembler, e: string): number {
  const kind = classifyEvent(e);
  if (kind.kind === "usage") assembler.usage = kind.usage;
  if (kind.kind !== "chunk") return 0;
  return assembler.addChunk(sseData(e)!);
}

/** The JSON path as assemble-response runs it: the fast read when it answers, else the full path. */
function feedFast(assembler: CompletionAssembler, e: string, endpoint: Endpoint): number {
  const content = assembler.started ? readContentChunk(e, endpoint) : null;
  return content === null ? feedFull(assembler, e) : assembler.addContent(content.index, content.text);
}

const usageEvent = `data: ${JSON.stringify({ ...head("chat"), choices: [], usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 } })}`;

describe("readContentChunk", () => {
  for (const endpoint of ["chat", "completion"] as const) {
    it(`reads vLLM's ${endpoint} content chunk: the choice index and the decoded text`, () => {
      const e = `data: ${JSON.stringify(vllmChunk(endpoint, 2, 'a "quoted" \\boxed{x}\n é 😀'))}`;
      expect(readContentChunk(e, endpoint)).toEqual({ index: 2, text: 'a "quoted" \\boxed{x}\n é 😀' });
      const escaped = `data: ${stringifyWithEscapes(vllmChunk(endpoint, 0, PLACEHOLDER), "héllo", 1)}`;
      expect(escaped).toContain("\\u0068\\u00e9");
      expect(readContentChunk(escaped, endpoint)).toEqual({ index: 0, text: "héllo" });
    });

    it(`leaves every ${endpoint} event it is not sure of to the full parse`, () => {
      const other = endpoint === "chat" ? "completion" : "chat";
      for (const e of [
        `data: ${JSON.stringify(vllmChunk(endpoint, 0, "x", { finish_reason: "stop" }))}`,
        `data: ${JSON.stringify(vllmChunk(endpoint, 0, "x", { final_answer: null }))}`,
        `data: ${JSON.stringify(vllmChunk(endpoint, 0, "x", { logprobs: { content: [] } }))}`,
        `data: ${JSON.stringify({ ...vllmChunk(endpoint, 0, "x"), usage: null })}`,
        `data: ${JSON.stringify(vllmChunk(other, 0, "x"))}`,
        `data: ${JSON.stringify(vllmChunk(endpoint, 0, "x")).replace('"x"', '"\\x"')}`, // an invalid escape: JSON.parse must refuse it
        `data: ${JSON.stringify(vllmChunk(endpoint, 0, "x")).replace('"x"', '"\t"')}`, // a raw control character, likewise
        `data: ${JSON.stringify(vllmChunk(endpoint, 0, "x")).replace('"index":0', '"index":01')}`,
        usageEvent,
        "data: [DONE]",
      ]) {
        expect(readContentChunk(e, endpoint), e).toBeNull();
      }
    });

    it(`agrees with JSON.parse on every ${endpoint} event it reads (fast-check)`, () => {
      fc.assert(
        fc.property(event(endpoint), (e) => {
          const fast = readContentChunk(e, endpoint);
          if (fast === null) return;
          expect(classifyEvent(e).kind).toBe("chunk");
          const parsed = JSON.parse(sseData(e)!) as { choices: Record<string, unknown>[] } & Record<string, unknown>;
          expect(Object.keys(parsed).sort()).toEqual(["choices", "created", "id", "model", "object"]);
          expect(parsed.choices).toHaveLength(1);
          const choice = parsed.choices[0]!;
          expect(choice.index).toBe(fast.index);
          expect(endpoint === "chat" ? (choice.delta as { content: string }).content : choice.text).toBe(fast.text);
          for (const key of ["logprobs", "finish_reason", "stop_reason"]) expect(choice[key] ?? null).toBeNull();
          expect("final_answer" in choice).toBe(false);
        }),
        { seed: 18, numRuns: 3000 },
      );
    });

    it(`reads a good share of the generated ${endpoint} events itself, so the properties test the fast path`, () => {
      const sample = fc.sample(event(endpoint), { seed: 18, numRuns: 1000 });
      const read = sample.filter((e) => readContentChunk(e, endpoint) !== null).length;
      expect(read).toBeGreaterThan(150);
      expect(read).toBeLessThan(900);
    });

    it(`assembles the same ${endpoint} answer with the fast read as without it, n > 1 and usage included (fast-check)`, () => {
      fc.assert(
        fc.property(fc.array(event(endpoint), { minLength: 1, maxLength: 30 }), (events) => {
          const all = [...events, usageEvent];
          const full = new CompletionAssembler(endpoint);
          const fast = new CompletionAssembler(endpoint);
          let fullTokens = 0;
          let fastTokens = 0;
          let fullError: unknown = null;
          let fastError: unknown = null;
          try {
            for (const e of all) fullTokens += feedFull(full, e);
          } catch (err) {
            fullError = err;
          }
          try {
            for (const e of all) fastTokens += feedFast(fast, e, endpoint);
          } catch (err) {
            fastError = err;
          }
          expect(fastError === null).toBe(fullError === null);
          if (fullError !== null) return;
          expect(fastTokens).toBe(fullTokens);
          expect(fast.build()).toEqual(full.build());
        }),
        { seed: 1818, numRuns: 800 },
      );
    });
  }
});
