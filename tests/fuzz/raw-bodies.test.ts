/**
 * Fuzzing what arrives as bytes rather than JSON: random bytes, invalid
 * UTF-8, bodies just under and over the 1 MiB limit (with and without a
 * Content-Length), any Content-Type, Content-Encoding that lies.
 */
import fc from "fast-check";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MAX_REQUEST_BODY_BYTES } from "../../shared/constants";
import { headerValue } from "../helpers/fuzz-arbitraries";
import { backendRequests, checkLogsForSecrets, checkResponse, expectLedger, fuzzClient, FUZZ_TIMEOUT_MS, fuzzParams, ledgerIds, type FuzzClient } from "../helpers/fuzz";
import { newSim, type SimHandle } from "../helpers/sim";

const CHAT = "/v1/chat/completions";
const VALID = '{"model":"limo","max_tokens":4,"messages":[{"role":"user","content":"What is 1+1?"}]}';
const encoder = new TextEncoder();

/** Bytes that are not UTF-8: stray continuation bytes, overlong forms, surrogates, truncated sequences. */
const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x92],
];

const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.array(fc.constantFrom(...INVALID_UTF8), { minLength: 1, maxLength: 8 }).map((parts) => Uint8Array.from(parts.flat())),
);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A chat body of exactly `size` bytes (the user content pads it). */
function chatOfSize(size: number, pad = "x"): Uint8Array {
  const head = '{"model":"limo","messages":[{"role":"user","content":"';
  const tail = '"}]}';
  return encoder.encode(head + pad.repeat(size - head.length - tail.length) + tail);
}

/** A body with no Content-Length: the Worker must count what it reads. */
function streamOf(body: Uint8Array, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= body.length) return controller.close();
      controller.enqueue(body.slice(at, at + chunk));
      at += chunk;
    },
  });
}

checkLogsForSecrets();

describe("fuzzing raw bodies", { timeout: FUZZ_TIMEOUT_MS }, () => {
  // One client for the file: storage written in beforeAll is seen by every test.
  let sim: SimHandle;
  let a: FuzzClient;
  let before: number;
  beforeAll(async () => {
    sim = newSim();
    a = await fuzzClient(sim);
  });
  beforeEach(async () => {
    before = await backendRequests(sim);
  });
  /** Requests the backend received during this test. */
  const reached = async () => (await backendRequests(sim)) - before;

  it("random bytes as the body are a 4xx that never reaches the backend", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(CHAT, "/v1/completions", "/admin/v1/accounts"), bytes, async (path, body) => {
        const headers = { authorization: `Bearer ${path.startsWith("/admin") ? a.env.ADMIN_TOKEN : a.key}`, "content-type": "application/json" };
        const res = await a.fetch(path, { method: "POST", headers, body });
        const { status } = await checkResponse(res, { describe: `POST ${path} bytes ${[...body.slice(0, 40)]}` });
        expect(status).toBeGreaterThanOrEqual(400);
      }),
      fuzzParams(100, 10),
    );
    expect(await reached()).toBe(0);
  });

  it("invalid UTF-8 inside a JSON string is decoded with replacement characters or refused, never a 5xx", async () => {
    const head = encoder.encode('{"model":"limo","max_tokens":4,"messages":[{"role":"user","content":"');
    const tail = encoder.encode('"}]}');
    const admitted = new Set<string>();
    const ledgerBefore = await ledgerIds(a);
    await fc.assert(
      fc.asyncProperty(bytes, async (middle) => {
        const start = await backendRequests(sim);
        const body = concat(head, middle, tail);
        const res = await a.fetch(CHAT, { method: "POST", headers: { authorization: `Bearer ${a.key}` }, body });
        const { status } = await checkResponse(res, { describe: `content bytes ${[...middle.slice(0, 40)]}` });
        expect(await backendRequests(sim)).toBe(status === 200 ? start + 1 : start);
        if (status === 200) admitted.add(res.headers.get("x-request-id")!);
      }),
      fuzzParams(60, 11),
    );
    await expectLedger(a, ledgerBefore, admitted);
  });

  it.each([
    ["1 byte under the limit", MAX_REQUEST_BODY_BYTES - 1, 400],
    ["exactly the limit", MAX_REQUEST_BODY_BYTES, 400],
    ["1 byte over the limit", MAX_REQUEST_BODY_BYTES + 1, 413],
    ["twice the limit", 2 * MAX_REQUEST_BODY_BYTES, 413],
    ["16 MiB", 16 * MAX_REQUEST_BODY_BYTES, 413],
  ])("a chat body %s is a %s (with Content-Length and streamed without)", async (_name, size, status) => {
    const body = chatOfSize(size);
    expect(body.length).toBe(size);
    for (const sent of [body, streamOf(body)]) {
      const res = await a.fetch(CHAT, { method: "POST", headers: { authorization: `Bearer ${a.key}` }, body: sent, duplex: "half" } as RequestInit);
      const checked = await checkResponse(res, { describe: `${size} bytes` });
      expect(checked.status, checked.text).toBe(status);
      // Under the limit, the prompt can never fit LIMO's context: refused before the backend.
      expect(checked.error?.code).toBe(status === 413 ? "request_too_large" : "context_length_exceeded");
    }
    expect(await reached()).toBe(0);
  });

  it.each([
    ["whitespace only, just under the limit", "invalid_json", () => " ".repeat(MAX_REQUEST_BODY_BYTES - 1)],
    ["one huge number", "invalid_request", () => "9".repeat(MAX_REQUEST_BODY_BYTES - 1)],
    ["one huge string", "invalid_request", () => `"${"a".repeat(MAX_REQUEST_BODY_BYTES - 3)}"`],
    ["a huge array of nulls", "invalid_request", () => `[${"null,".repeat(200_000)}null]`],
    ["50k unknown keys", "unknown_parameter", () => `{"model":"limo","messages":[{"role":"user","content":"hi"}],${Array.from({ length: 50_000 }, (_, i) => `"k${i}":1`).join(",")}}`],
    ["30k messages", "invalid_value", () => `{"model":"limo","messages":[${'{"role":"user","content":""},'.repeat(30_000)}{"role":"user","content":""}]}`],
  ])("a body of %s is a 400 %s", async (_name, code, text) => {
    const res = await a.send(CHAT, text());
    const checked = await checkResponse(res, { describe: _name });
    expect(checked.status, checked.text.slice(0, 300)).toBe(400);
    expect(checked.error?.code).toBe(code);
    expect(await reached()).toBe(0);
  });

  it.each([
    ["1 byte under", 64 * 1024 - 1, 400],
    ["1 byte over", 64 * 1024 + 1, 413],
  ])("an admin body %s its 64 KiB limit is a %s", async (_name, size, status) => {
    const head = '{"name":"';
    const body = `${head}${"n".repeat(size - head.length - 2)}"}`;
    expect(body.length).toBe(size);
    const res = await a.admin("POST", "/accounts", body);
    expect((await checkResponse(res)).status).toBe(status);
  });

  it("any Content-Type on a valid body is accepted as JSON", async () => {
    const contentType = fc.oneof(
      fc.constantFrom("", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/xml", "application/json, text/html", "*/*", "application/json; charset=\u00ff"),
      headerValue.filter((v) => v.length < 100),
    );
    await fc.assert(
      fc.asyncProperty(contentType, async (type) => {
        const res = await a.fetch(CHAT, { method: "POST", headers: { authorization: `Bearer ${a.key}`, "content-type": type }, body: VALID });
        const checked = await checkResponse(res, { describe: `content-type ${JSON.stringify(type.slice(0, 80))}` });
        expect(checked.status, checked.text).toBe(200);
      }),
      fuzzParams(40, 12),
    );
  });

  it("a form, a UTF-16 or a gzip body is refused as invalid JSON, whatever it claims to be", async () => {
    const gzipped = new Uint8Array(await new Response(new Blob([VALID]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    const utf16 = new Uint8Array(new Uint16Array([...VALID].map((ch) => ch.charCodeAt(0))).buffer);
    const cases: [Record<string, string>, BodyInit][] = [
      [{ "content-type": "application/x-www-form-urlencoded" }, "model=limo&messages=hi"],
      [{ "content-type": "multipart/form-data; boundary=b" }, '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nlimo\r\n--b--\r\n'],
      [{ "content-type": "application/json; charset=utf-16le" }, utf16],
      [{ "content-type": "application/json", "content-encoding": "gzip" }, gzipped],
      [{ "content-type": "application/json", "content-encoding": "br" }, gzipped],
    ];
    for (const [headers, body] of cases) {
      const res = await a.fetch(CHAT, { method: "POST", headers: { authorization: `Bearer ${a.key}`, ...headers }, body });
      const checked = await checkResponse(res, { describe: JSON.stringify(headers) });
      expect(checked.status, `${JSON.stringify(headers)}: ${checked.text}`).toBe(400);
    }
    // A lying Content-Encoding on a plain body changes nothing.
    const plain = await a.fetch(CHAT, { method: "POST", headers: { authorization: `Bearer ${a.key}`, "content-encoding": "gzip" }, body: VALID });
    expect((await checkResponse(plain)).status).toBe(200);
    expect(await reached()).toBe(1);
  });
});
