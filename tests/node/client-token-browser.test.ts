/**
 * The README's "From a browser" example, run as it is written, in a real
 * browser (Debian's Chromium through playwright-core) against the running dev
 * stack: a tutoring platform's own server (a node:http server on its own
 * origin) mints a client token for one student with its API key, serves the
 * README's page, and the page streams a tutor hint from the API across
 * origins with that token. The page's script is the README's ```html block,
 * read from README.md with only the API's address changed, so the example
 * cannot drift from what works. A page on an origin the token does not allow
 * gets a 403 it can read (CORS), and spends nothing.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import type { Response as PageResponse } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account, CreatedApiKey } from "../../shared/admin";
import type { UsageRecord } from "../../shared/usage";
import { launchBrowser, screenshot, type Browser } from "./browser";
import { adminClient, devAdminToken, freePort, startDevStack, type AdminCall, type DevStack } from "./dev-stack";

/** The address the README's examples call the API at. */
const README_API = "https://api.example";
const STUDENT = "5e8f0c2a9b7d4e13";
/** The problem the README's page asks about. */
const PROBLEM = "A fair coin is tossed once. What is the probability of heads?";

/** The page of the README's "From a browser" example: its ```html block. */
function readmePage(): string {
  const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("**From a browser.**"));
  const block = /```html\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("README.md: no ```html block after **From a browser.**");
  if (!block[1]!.includes(PROBLEM)) throw new Error("README.md's browser example asks another problem: update PROBLEM");
  return block[1]!;
}

interface Platform {
  origin: string;
  /** Client tokens the platform minted: the API's answers, as the page received them. */
  minted: { status: number; body: { token?: string; end_user?: string } }[];
  close(): Promise<void>;
}

/**
 * The platform's server, as the README's Node snippet: `POST /tutor-token`
 * mints a token for the student with the API key (never sent to the page),
 * for the given origins; `GET /` serves the page.
 */
async function startPlatform(apiUrl: string, apiKey: string, page: string, tokenOrigins: (origin: string) => string[]): Promise<Platform> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const minted: Platform["minted"] = [];
  const server: Server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html><meta charset="utf-8"><title>tutor</title>${page}`);
      return;
    }
    if (req.method === "POST" && req.url === "/tutor-token") {
      void (async () => {
        const r = await fetch(`${apiUrl}/v1/client_tokens`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ end_user: STUDENT, expires_in_seconds: 600, models: ["limo"], origins: tokenOrigins(origin), max_total_tokens: 50_000, max_requests: 100 }),
        });
        const body = (await r.json()) as Platform["minted"][number]["body"];
        minted.push({ status: r.status, body });
        res.writeHead(r.status, { "content-type": "application/json" }).end(JSON.stringify(body));
      })();
      return;
    }
    // The browser asks for /favicon.ico: a page with no icon, not a failed request.
    res.writeHead(req.url === "/favicon.ico" ? 204 : 404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { origin, minted, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let stack: DevStack;
let admin: AdminCall;
let account: Account;
let apiKey: string;
let browser: Browser;
const platforms: Platform[] = [];

beforeAll(async () => {
  stack = await startDevStack();
  admin = adminClient(stack.url, devAdminToken());
  account = await admin<Account>("POST", "/accounts", { name: "Browser tutoring platform", plan: "standard" });
  ({ key: apiKey } = await admin<CreatedApiKey>("POST", `/accounts/${account.id}/keys`, { name: "platform server" }));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(platforms.map((p) => p.close()));
  await stack?.stop();
});

/** Opens the platform's page and waits for its chat completion's answer to arrive in full. */
async function runPage(platform: Platform) {
  const { page, problems } = await browser.newPage();
  const answered = page.waitForResponse((r) => r.url() === `${stack.url}/v1/chat/completions` && r.request().method() === "POST");
  await page.goto(`${platform.origin}/`);
  const response: PageResponse = await answered;
  await response.finished();
  return { page, problems, response };
}

async function records(): Promise<UsageRecord[]> {
  const page = await admin<{ data: UsageRecord[] }>("GET", `/accounts/${account.id}/usage?end_user=${STUDENT}`);
  return page.data;
}

describe("the README's browser example, in Chromium", () => {
  it("streams a tutor hint with a client token minted by the platform's server, billed to the student", async () => {
    const platform = await startPlatform(stack.url, apiKey, readmePage().replaceAll(README_API, stack.url), (origin) => [origin]);
    platforms.push(platform);
    const { page, problems, response } = await runPage(platform);

    expect(platform.minted).toHaveLength(1);
    expect(platform.minted[0]!.status).toBe(201);
    expect(platform.minted[0]!.body.token).toMatch(/^limo_ct_/);
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toMatch(/^text\/event-stream/);
    // The README's loop wrote every delta into #hint; the guard kept the final answer out of it.
    await page.waitForFunction(() => (document.getElementById("hint")?.textContent ?? "").length > 0);
    const hint = await page.locator("#hint").textContent();
    expect(hint!.length).toBeGreaterThan(20);
    expect(hint).not.toMatch(/\\boxed/);
    expect(problems.errors).toEqual([]);
    expect(problems.dialogs).toEqual([]);
    await screenshot(page, "client-token-hint");
    await page.close();

    // Two records, both the student's: the hint, and the hidden solve that found the answer it guards.
    const mine = await records();
    expect(mine).toHaveLength(2);
    const hintRecord = mine.find((r) => r.request_id === response.headers()["x-request-id"]);
    const solveRecord = mine.find((r) => r.request_id === `${response.headers()["x-request-id"]}-solve`);
    for (const record of [hintRecord, solveRecord]) {
      expect(record).toMatchObject({ end_user: STUDENT, status: "ok" });
      expect(record!.completion_tokens).toBeGreaterThan(0);
    }

    // The hidden solve's answer (the same solve, from the cache) is nowhere in the hint.
    const solved = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "limo", temperature: 0, messages: [{ role: "user", content: PROBLEM }] }),
    });
    expect(solved.headers.get("x-cache")).toBe("HIT");
    const reference = ((await solved.json()) as { choices: { final_answer: string | null }[] }).choices[0]!.final_answer;
    expect(reference).toMatch(/\d/);
    const escaped = reference!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    expect(hint).not.toMatch(new RegExp(`(?<![\\d.])${escaped}(?!\\d)`));
  });

  it("a page on an origin the token does not allow reads a 403 through CORS and spends nothing", async () => {
    const before = (await records()).length;
    const platform = await startPlatform(stack.url, apiKey, readmePage().replaceAll(README_API, stack.url), () => ["https://tutor.example"]);
    platforms.push(platform);
    const { page, problems, response } = await runPage(platform);

    expect(platform.minted[0]!.status).toBe(201);
    expect(response.status()).toBe(403);
    expect(response.headers()["access-control-allow-origin"]).toBe("*");
    const body = (await response.json()) as { error: { code: string } };
    expect(body.error.code).toBe("origin_not_allowed");
    expect(await page.locator("#hint").textContent()).toBe("");
    // Chromium logs the refused request itself; nothing else went wrong on the page.
    expect(problems.errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
    await page.close();
    expect(await records()).toHaveLength(before);
  });
});
