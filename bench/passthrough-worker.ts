/**
 * @module passthrough-worker
 * The floor of `npm run bench`: the least a Hono Worker can do in front of a
 * backend. It forwards every request, method, headers and body as they came,
 * to the same path on `UPSTREAM` and hands the backend's response (a stream
 * stays a stream) straight back. No auth, no parsing, no rewriting: whatever
 * the gateway costs beyond this is the price of what it does.
 */
import { Hono } from "hono";

interface PassthroughEnv {
  Bindings: {
    /** The backend's origin, e.g. `http://127.0.0.1:8000`. */
    UPSTREAM: string;
  };
}

const app = new Hono<PassthroughEnv>();

app.all("*", (c) => {
  const { pathname, search } = new URL(c.req.url);
  return fetch(new Request(new URL(pathname + search, c.env.UPSTREAM), c.req.raw));
});

export default app;
