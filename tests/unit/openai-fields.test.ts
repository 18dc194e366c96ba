import { describe, expect, it } from "vitest";
import { MODEL_CATALOGUE } from "../../shared/constants";
import { ChatCompletionRequestSchema, CompletionRequestSchema } from "../../shared/openai";
import { cacheKey } from "../../worker/generations/cache-key";
import { backendFields, CHAT_FIELDS, COMPLETION_FIELDS, fieldRefusal } from "../../worker/generations/openai-fields";
import { prepareChat, prepareCompletion } from "../../worker/generations/prepare";

const chat = (extra: Record<string, unknown> = {}) =>
  ChatCompletionRequestSchema.parse({ model: "limo", messages: [{ role: "user", content: "What is 2+2?" }], ...extra });
const model = MODEL_CATALOGUE[0]!;

describe("the field table", () => {
  it("sends only served fields to the backend: no-effect and LIMO's own fields stay at the edge", () => {
    const p = prepareChat(
      chat({ store: true, metadata: { a: "b" }, reasoning_effort: "high", prompt_cache_key: "k", safety_identifier: "s", user: "u", tool_choice: "none", tools: [{ type: "function" }], response_format: { type: "json_object" } }),
      model,
    );
    for (const field of ["store", "metadata", "reasoning_effort", "prompt_cache_key", "safety_identifier", "user", "tool_choice", "tools"]) {
      expect(p.backendBody, field).not.toHaveProperty(field);
    }
    expect(p.backendBody.response_format).toEqual({ type: "json_object" });
    expect(backendFields(CHAT_FIELDS).has("response_format")).toBe(true);
  });

  it("maps developer to system (no default system prompt then) and drops output-only assistant fields", () => {
    const p = prepareChat(
      chat({
        messages: [
          { role: "developer", content: "Be brief." },
          { role: "user", content: [{ type: "text", text: "1+1?", prompt_cache_breakpoint: { mode: "explicit" } }] },
          { role: "assistant", content: "2", refusal: null, annotations: [], parsed: null, audio: null, function_call: null, tool_calls: [], reasoning_content: "r" },
          { role: "user", content: "Why?", name: "kim" },
        ],
      }),
      model,
    );
    expect(p.backendBody.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "1+1?" }] },
      { role: "assistant", content: "2" },
      { role: "user", content: "Why?", name: "kim" },
    ]);
  });

  it("refuses, naming the field and why", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ tools: [{ type: "function" }] }, "tools"],
      [{ tool_choice: "required" }, "tool_choice"],
      [{ modalities: ["text", "audio"] }, "modalities"],
      [{ web_search_options: {} }, "web_search_options"],
      [{ messages: [{ role: "assistant", content: "x", tool_calls: [{ id: "c", type: "function" }] }] }, "messages[0].tool_calls"],
    ];
    for (const [extra, param] of cases) {
      const error = fieldRefusal(CHAT_FIELDS, chat(extra));
      expect(error, param).toMatchObject({ code: "unsupported_parameter", param });
      expect(error!.message).toContain("is not supported: ");
    }
    expect(fieldRefusal(CHAT_FIELDS, chat({ tools: [], tool_choice: "none", modalities: ["text"] }))).toBeNull();
  });

  it("refuses an assistant turn with no content", () => {
    expect(() => prepareChat(chat({ messages: [{ role: "assistant", content: null }] }), model)).toThrow(/messages\[0\]\.content/);
  });

  it("serves logit_bias on completions and refuses echo, best_of above n and suffix", () => {
    const completion = (extra: Record<string, unknown>) => CompletionRequestSchema.parse({ model: "limo", prompt: "2+2=", ...extra });
    expect(prepareCompletion(completion({ logit_bias: { "10": 1 }, best_of: 2, n: 2 }), model).backendBody).toMatchObject({ logit_bias: { "10": 1 } });
    expect(prepareCompletion(completion({ best_of: 2, n: 2 }), model).backendBody).not.toHaveProperty("best_of");
    for (const [extra, param] of [[{ echo: true }, "echo"], [{ best_of: 3 }, "best_of"], [{ suffix: "x" }, "suffix"], [{ prompt: [1, 2] }, "prompt"]] as const) {
      expect(fieldRefusal(COMPLETION_FIELDS, completion(extra)), param).toMatchObject({ code: "unsupported_parameter", param });
    }
  });

  it("puts response_format in the cache key, and not the end user", async () => {
    const key = (extra: Record<string, unknown>) => cacheKey("acct_1", "account", "/v1/chat/completions", prepareChat(chat({ temperature: 0, ...extra }), model).backendBody);
    const plain = await key({});
    expect(await key({ response_format: { type: "json_object" } })).not.toBe(plain);
    expect(await key({ user: "kim", safety_identifier: "k1" })).toBe(plain);
  });
});
