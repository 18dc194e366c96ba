/**
 * What `POST /v1/responses` refuses, free and in OpenAI's envelope: fields
 * LIMO cannot serve (named), unknown fields, bad shapes; and the stored
 * responses' errors: unknown ids, a chain link that does not exist, a
 * follow-up of a response still running.
 */
import { describe, expect, it } from "vitest";
import type { ResponseObject } from "../../shared/openai-responses";
import { errorOf } from "../helpers/api";
import { newClient } from "./client";

describe("POST /v1/responses refuses what it cannot serve", () => {
  const refusals: [string, Record<string, unknown>, string, string][] = [
    ["tools", { tools: [{ type: "function", name: "f", parameters: {} }] }, "unsupported_parameter", "tools"],
    ["a reasoning summary", { reasoning: { effort: "high", summary: "auto" } }, "unsupported_parameter", "reasoning.summary"],
    ["json_schema output", { text: { format: { type: "json_schema", name: "x", schema: {} } } }, "unsupported_parameter", "text.format"],
    ["an image part", { input: [{ role: "user", content: [{ type: "input_image", image_url: "https://example.com/a.png" }] }] }, "unsupported_parameter", "input[0].content[0]"],
    ["a function call output item", { input: [{ type: "function_call_output", call_id: "c", output: "1" }] }, "unsupported_parameter", "input[0].type"],
    ["truncation auto", { truncation: "auto" }, "unsupported_parameter", "truncation"],
    ["a non-empty include", { include: ["reasoning.encrypted_content"] }, "unsupported_parameter", "include"],
    ["conversations", { conversation: "conv_1" }, "unsupported_parameter", "conversation"],
    ["an unknown field", { frobnicate: true }, "unknown_parameter", "frobnicate"],
    ["a missing input", { input: undefined }, "missing_required_parameter", "input"],
    ["a bad temperature", { temperature: 3 }, "invalid_value", "temperature"],
    ["background without store", { background: true, store: false }, "invalid_value", "store"],
    ["an input too long for the context", { input: "seven ".repeat(150_000) }, "context_length_exceeded", "input"],
  ];

  it.each(refusals)("refuses %s with a 400 naming it, and costs nothing", async (_, fields, code, param) => {
    const client = await newClient();
    const res = await client.create({ input: "What is 1+1?", ...fields });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code, param, type: "invalid_request_error" });
    expect((await client.account.sim.stats()).requests_total).toBe(0);
    expect(await client.account.ledger()).toEqual([]);
  });

  it("accepts what clients send by default and that changes nothing for LIMO", async () => {
    const client = await newClient();
    const res = await client.create({
      input: "What is 1+1?",
      reasoning: { effort: "medium" },
      parallel_tool_calls: true,
      include: [],
      tools: [],
      tool_choice: "auto",
      truncation: "disabled",
      text: { format: { type: "text" }, verbosity: "medium" },
      service_tier: "auto",
      stream_options: undefined,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as ResponseObject).status).toBe("completed");
  });
});

describe("stored responses that do not exist", () => {
  it("is a 404 for an unknown id, on every route", async () => {
    const client = await newClient();
    for (const res of [
      await client.get("/v1/responses/resp_00000000000000000000000000000000"),
      await client.get("/v1/responses/not-an-id"),
      await client.post("/v1/responses/resp_00000000000000000000000000000000/cancel"),
      await client.delete("/v1/responses/resp_00000000000000000000000000000000"),
      await client.get("/v1/responses/resp_00000000000000000000000000000000/input_items"),
    ]) {
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe("not_found");
    }
    const follow = await client.create({ input: "Go on.", previous_response_id: "resp_00000000000000000000000000000000" });
    expect(follow.status).toBe(404);
    expect(await errorOf(follow)).toMatchObject({ code: "not_found", param: "previous_response_id" });
  });

  it("refuses to continue a response that is still running", async () => {
    const client = await newClient();
    await client.account.sim.configure({ tokens_per_second: 5 });
    const running = (await (await client.create({ input: "Think long.", background: true })).json()) as ResponseObject;
    const follow = await client.create({ input: "Go on.", previous_response_id: running.id });
    expect(follow.status).toBe(400);
    expect(await errorOf(follow)).toMatchObject({ code: "invalid_value", param: "previous_response_id" });
    await client.post(`/v1/responses/${running.id}/cancel`);
  });
});
