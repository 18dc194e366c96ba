import { describe, expect, it } from "vitest";
import { SseSplitter, sseData, sseEvent } from "../../shared/sse";
import { classifyEvent } from "../../worker/streams/stream-events";

describe("SseSplitter", () => {
  it("joins events split across chunks and keeps the remainder", () => {
    const s = new SseSplitter();
    expect(s.push("data: {\"a\"")).toEqual([]);
    expect(s.push(":1}\n\ndata: [DO")).toEqual(['data: {"a":1}']);
    expect(s.rest).toBe("data: [DO");
    expect(s.push("NE]\n\n")).toEqual(["data: [DONE]"]);
    expect(s.rest).toBe("");
  });

  it("accepts CRLF framing", () => {
    expect(new SseSplitter().push("data: x\r\n\r\ndata: y\r\n\r\n")).toEqual(["data: x", "data: y"]);
  });

  it("reads multi-line data and ids", () => {
    expect(sseData("id: 3\ndata: a\ndata: b")).toBe("a\nb");
    expect(sseData(": keep-alive")).toBeNull();
    expect(sseEvent("x", 4)).toBe("id: 4\ndata: x\n\n");
  });
});

describe("classifyEvent", () => {
  const chunk = (content: string) =>
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] })}`;

  it("passes content through without parsing, even text that mentions usage or error", () => {
    expect(classifyEvent(chunk("hello"))).toEqual({ kind: "chunk" });
    expect(classifyEvent(chunk('"usage": {"x":1}'))).toEqual({ kind: "chunk" });
    expect(classifyEvent(chunk("usage"))).toEqual({ kind: "chunk" });
    expect(classifyEvent(chunk("error"))).toEqual({ kind: "chunk" });
  });

  it("finds the usage chunk, errors and [DONE]", () => {
    const usage = { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 };
    expect(classifyEvent(`data: ${JSON.stringify({ id: "c", choices: [], usage })}`)).toEqual({ kind: "usage", usage });
    expect(classifyEvent('data: {"error": {"message": "boom", "code": 500}}')).toEqual({ kind: "error", message: "boom" });
    expect(classifyEvent("data: [DONE]")).toEqual({ kind: "done" });
    expect(classifyEvent(": waiting")).toEqual({ kind: "other" });
  });
});
