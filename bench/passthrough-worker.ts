/**
 * @module passthrough-worker
 * The floor of `npm run bench`: the least a Hono Worker can do in front of a
 * backend. It forwards every request, method, headers and body as they came,
 * to the same path on `UPSTREAM` and hands the backend's response (a stream
 * stays a stream) straight back. No auth, no parsing, no rewriting: whatever
 * the gateway costs beyond this is the price of what it does.
 *
 * One scenario (`long_nonstream_streamed`, header `x-bench-read-stream`)
 * measures a second floor, for the JSON path: a gateway behind Modal must ask
 * vLLM to stream (Modal cuts a plain request at 150 s, and LIMO's answers run
 * longer), so the least it can do for a non-streaming client is to read the
 * backend's whole SSE stream and answer one body. That branch asks for the
 * stream and answers its text as one body, collected natively: no parsing,
 * no JSON assembled.
 */
import { Hono } from "hono";

interface PassthroughEnv {
  Bindings: {
    /** The backend's origin, e.g. `http://127.0.0.1:8000`. */
    UPSTREAM: string;
  };
}

const app = new Hono<PassthroughEnv>();

app.all("*", async (c) => {
  const { pathname, search } = new URL(c.req.url);
  const url = new URL(pathname + search, c.env.UPSTREAM);
  if (c.req.header("x-bench-read-stream") === undefined) return fetch(new Request(url, c.req.raw));
  const body = { ...(await c.req.json<Record<string, unknown>>()), stream: true, stream_options: { include_usage: true } };
  const headers = new Headers(c.req.raw.headers);
  headers.delete("content-length");
  const streamed = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  return new Response(await streamed.text(), { status: streamed.status, headers: { "content-type": "text/plain; charset=utf-8" } });
});

export default app;
