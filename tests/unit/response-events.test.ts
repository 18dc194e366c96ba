/**
 * The chat stream re-shaped into Responses events (worker/responses/response-events):
 * interleaved choices as separate output messages, a cut choice making the
 * response incomplete, an error mid-stream, keep-alive comments, and
 * `starting_after` skipping exactly what a client has.
 */
import { describe, expect, it } from "vitest";
import type { ResponseObject } from "../../shared/openai-responses";
import type { ResponseRecord } from "../../worker/responses/response-object";
import { ResponseEventStreamer } from "../../worker/responses/response-events";

const record: ResponseRecord = {
  id: "resp_0123456789abcdef0123456789abcdef",
  createdAt: 1_700_000_000,
  model: "limo",
  generationId: null,
  background: false,
  store: true,
  instructions: null,
  maxOutputTokens: null,
  temperature: null,
  topP: null,
  metadata: {},
  previousResponseId: null,
  user: null,
  safetyIdentifier: null,
  reasoningEffort: null,
  input: [],
  final: null,
};

const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices, ...extra })}`;
const CHAT = [
  chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]),
  chunk([{ index: 1, delta: { content: "B1" }, finish_reason: null }]),
  ": waiting for a GPU backend to start",
  chunk([{ index: 0, delta: { content: "A1" }, finish_reason: null }]),
  chunk([{ index: 0, delta: { content: " \\boxed{2}" }, finish_reason: "stop", final_answer: "2" }]),
  chunk([{ index: 1, delta: { content: "" }, finish_reason: "length" }]),
  chunk([], { usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } }),
  "data: [DONE]",
];

type Event = { type: string; sequence_number: number; response?: ResponseObject; [k: string]: unknown };
function parse(sse: string): { events: Event[]; comments: string[] } {
  const blocks = sse.split("\n\n").filter(Boolean);
  return {
    events: blocks.filter((b) => b.startsWith("event:")).map((b) => JSON.parse(b.split("\n")[1]!.slice(6)) as Event),
    comments: blocks.filter((b) => b.startsWith(":")),
  };
}

function run(events: readonly string[], startingAfter = -1): string {
  const streamer = new ResponseEventStreamer(record, startingAfter, () => 1_700_000_100);
  return streamer.start() + events.map((e) => streamer.push(e)).join("");
}

describe("Responses events from a chat stream", () => {
  it("gives each choice its own output message, in order, numbered without gaps", () => {
    const { events, comments } = parse(run(CHAT));
    expect(comments).toEqual([": waiting for a GPU backend to start"]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const item0 = `msg_${record.id.slice(5)}_0`;
    const item1 = `msg_${record.id.slice(5)}_1`;
    expect(events.map((e) => [e.type, e.item_id ?? (e.item as { id: string } | undefined)?.id ?? null])).toEqual([
      ["response.created", null],
      ["response.in_progress", null],
      ["response.output_item.added", item0],
      ["response.content_part.added", item0],
      ["response.output_item.added", item1],
      ["response.content_part.added", item1],
      ["response.output_text.delta", item1],
      ["response.output_text.delta", item0],
      ["response.output_text.delta", item0],
      ["response.output_text.done", item0],
      ["response.content_part.done", item0],
      ["response.output_item.done", item0],
      ["response.output_text.done", item1],
      ["response.content_part.done", item1],
      ["response.output_item.done", item1],
      ["response.incomplete", null],
    ]);
    const last = events.at(-1)!.response!;
    expect(last).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, final_answer: "2", output_text: "A1 \\boxed{2}" });
    expect(last.output.map((o) => o.status)).toEqual(["completed", "incomplete"]);
    expect(last.usage).toEqual({ input_tokens: 5, input_tokens_details: { cached_tokens: 0 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 9 });
  });

  it("skips exactly the events up to starting_after", () => {
    const all = parse(run(CHAT)).events;
    for (const after of [0, 3, 7, all.length - 1]) expect(parse(run(CHAT, after)).events).toEqual(all.slice(after + 1));
  });

  it("ends an errored stream with an error event and response.failed, and a cancelled one as cancelled", () => {
    const failed = parse(run([CHAT[0]!, CHAT[3]!, `data: ${JSON.stringify({ error: { message: "boom", type: "server_error", param: null, code: "backend_error" } })}`])).events;
    expect(failed.at(-2)).toMatchObject({ type: "error", code: "backend_error", message: "boom" });
    expect(failed.at(-1)!.response).toMatchObject({ status: "failed", error: { code: "backend_error" }, output_text: "A1" });
    const cancelled = parse(run([CHAT[0]!, `data: ${JSON.stringify({ error: { message: "x", type: "invalid_request_error", param: null, code: "generation_cancelled" } })}`])).events;
    expect(cancelled.at(-1)!.response).toMatchObject({ status: "cancelled", error: null });
  });

  it("reports a stream that broke off as failed", () => {
    const streamer = new ResponseEventStreamer(record);
    const out = streamer.start() + streamer.push(CHAT[3]!) + streamer.broken();
    expect(parse(out).events.at(-1)).toMatchObject({ type: "response.failed" });
    expect(streamer.final!.status).toBe("failed");
  });
});
