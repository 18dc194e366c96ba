/**
 * The operators' dashboard in a real browser (Debian's Chromium, headless,
 * through playwright-core) against the running dev stack after real
 * requests: an operator and a key holder sign in, every plot is drawn with
 * the range's number of points and equals what the usage API returns, a
 * hostile account name stays text, a wrong token shows an error and no data,
 * sign-out leaves no token, a key holder cannot reach another account, and
 * nothing logs an error. Screenshots of each page, light and dark, go to
 * test-artifacts/browser. The browser runs in Asia/Kolkata (UTC+5:30), so
 * buckets that ignored the viewer's zone would not line up.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rangeWindow, RANGES, type RangeId } from "../../dashboard/src/ranges";
import { launchBrowser, screenshot, type Browser, type PageProblems } from "./browser";
import { HOSTILE_NAME, sendDashboardTraffic, usageRecords, type DashboardFixture } from "./dashboard-traffic";
import { startDevStack, type DevStack } from "./dev-stack";

const TIME_ZONE = "Asia/Kolkata";
const STORAGE_KEY = "limo.dashboard.credential";

let stack: DevStack;
let fixture: DashboardFixture;
let browser: Browser;

beforeAll(async () => {
  stack = await startDevStack();
  fixture = await sendDashboardTraffic(stack);
  browser = await launchBrowser({ timezoneId: TIME_ZONE });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function signIn(page: Page, kind: "operator" | "key", token: string): Promise<void> {
  await page.goto(`${stack.url}/dashboard`);
  await page.locator(`input[name="kind"][value="${kind}"]`).check();
  await page.fill("#token", token);
  await page.click("#sign-in");
}

/** Waits until every plot panel on the page is drawn or shows its empty state. */
async function settled(page: Page): Promise<void> {
  await page.waitForSelector("[data-chart]");
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>("[data-chart]")].every((p) => p.dataset.drawn === "true" || p.dataset.empty === "true"));
}

/** Each plot panel's id, its point count, and whether it is drawn. */
async function plots(page: Page): Promise<{ id: string; points: number; drawn: boolean; empty: boolean }[]> {
  return page.$$eval("[data-chart]", (panels) =>
    panels.map((p) => {
      const d = (p as HTMLElement).dataset;
      return { id: d.chart!, points: Number(d.points), drawn: d.drawn === "true", empty: d.empty === "true" };
    }),
  );
}

/** A plot's data table: bucket start and, per series, the raw value it was drawn from. */
async function plotTable(page: Page, chart: string): Promise<{ series: string[]; rows: { t: number; values: (number | null)[] }[] }> {
  return page.$eval(`[data-chart="${chart}"] table.numbers`, (table) => ({
    series: [...table.querySelectorAll("thead th")].slice(1).map((th) => th.textContent ?? ""),
    rows: [...table.querySelectorAll("tbody tr")].map((tr) => ({
      t: Number((tr as HTMLElement).dataset.t),
      values: [...tr.querySelectorAll("td")].map((td) => (td.dataset.value === "" ? null : Number(td.dataset.value))),
    })),
  }));
}

async function chooseRange(page: Page, range: RangeId): Promise<void> {
  await page.click(`.ranges [data-range="${range}"]`);
  await page.waitForSelector(`.ranges [data-range="${range}"].current`);
  await settled(page);
}

function expectNoProblems(problems: PageProblems): void {
  expect(problems.errors).toEqual([]);
  expect(problems.dialogs).toEqual([]);
}

/** Nothing of `token` anywhere the page keeps state or shows markup. */
async function expectTokenGone(page: Page, token: string): Promise<void> {
  expect(await page.evaluate((key) => sessionStorage.getItem(key), STORAGE_KEY)).toBeNull();
  expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }))).not.toContain(token);
  expect(await page.content()).not.toContain(token);
  expect(await page.inputValue("#token")).toBe("");
  expect(page.url()).not.toContain(token);
  expect((await browser.context.cookies()).length).toBe(0);
}

describe("the dashboard, signed in as the operator", () => {
  it("draws the overview for every range with the right number of points, then the account, accounts and backends pages", async () => {
    const { page, problems } = await browser.newPage();
    await page.goto(`${stack.url}/dashboard`);
    await page.waitForSelector("#sign-in-form");
    await screenshot(page, "sign-in");
    await signIn(page, "operator", fixture.adminToken);
    await settled(page);
    expect(await page.textContent("h1")).toBe("Overview");
    for (const range of ["24h", "1h", "7d", "30d"] as const) {
      if (range !== "24h") await chooseRange(page, range);
      const drawn = await plots(page);
      expect(drawn.map((p) => p.id)).toEqual(["requests", "tokens", "cost", "ttft"]);
      // Our requests are minutes old: every range holds them, so no plot is empty.
      for (const plot of drawn) expect(plot, `${plot.id} over ${range}`).toEqual({ id: plot.id, points: RANGES[range].points, drawn: true, empty: false });
    }
    await chooseRange(page, "24h");
    await screenshot(page, "overview-light");
    await page.emulateMedia({ colorScheme: "dark" });
    await page.click("#theme-toggle"); // system -> light -> dark: the toggle wins over the system's scheme
    await page.click("#theme-toggle");
    await settled(page);
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await screenshot(page, "overview-dark");
    await page.click("#theme-toggle"); // back to the system's
    await page.emulateMedia({ colorScheme: "light" });

    await page.goto(`${stack.url}/dashboard#/accounts/${fixture.hostile.account.id}`);
    await settled(page);
    expect(await page.textContent(".page-title h1")).toBe(HOSTILE_NAME);
    expect((await plots(page)).map((p) => [p.id, p.points, p.drawn])).toEqual([
      ["requests", 24, true], ["tokens", 24, true], ["cost", 24, true], ["ttft", 24, true], ["duration", 24, true],
    ]);
    expect(await page.locator('[data-table="models"] tbody tr').count()).toBe(2);
    await screenshot(page, "account-light");

    await page.goto(`${stack.url}/dashboard#/accounts`);
    await page.waitForSelector('[data-table="accounts"]');
    await page.fill("#account-search", fixture.other.account.name.slice(-8).toUpperCase());
    await page.waitForFunction(() => document.querySelectorAll('[data-table="accounts"] tbody tr').length === 1);
    expect(await page.textContent('[data-table="accounts"] tbody tr a')).toBe(fixture.other.account.name);
    await page.fill("#account-search", "<img src=x");
    await page.waitForFunction((name) => [...document.querySelectorAll('[data-table="accounts"] tbody tr a')].every((a) => a.textContent === name), HOSTILE_NAME);
    await screenshot(page, "accounts-light");

    // The cron's health poll, run on demand (wrangler dev runs no cron): vLLM's gauges reach the pool.
    expect((await fetch(`${stack.url}/__scheduled?cron=*+*+*+*+*`)).status).toBe(200);
    await page.goto(`${stack.url}/dashboard#/backends`);
    await page.waitForSelector('[data-table="backends"]');
    expect(await page.textContent('[data-table="backends"] tbody tr td strong')).toBe("sim");
    // The page reads the pool again every few seconds: the load plot gains a point.
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-chart="backend-load"]')?.dataset.points ?? 0) >= 2, undefined, { timeout: 20_000 });
    for (const chart of ["backend-load", "backend-kv"]) {
      expect(await page.getAttribute(`[data-chart="${chart}"]`, "data-drawn"), chart).toBe("true");
    }
    await screenshot(page, "backends-light");

    // A hostile name never became markup anywhere it was shown.
    expect(await page.evaluate(() => document.querySelectorAll('img[src="x"]').length)).toBe(0);
    expectNoProblems(problems);
    await page.close();
  });

  it("plots what the usage API returns, bucket by bucket in the viewer's zone", async () => {
    const { page, problems } = await browser.newPage();
    await signIn(page, "operator", fixture.adminToken);
    await settled(page);
    await page.goto(`${stack.url}/dashboard#/accounts/${fixture.hostile.account.id}?range=1h`);
    await settled(page);
    const window = rangeWindow("1h", Date.now(), TIME_ZONE);
    const records = await usageRecords(fixture.admin, fixture.hostile.account.id, window.from - 3_600_000, window.to);
    const tokens = await plotTable(page, "tokens");
    const requests = await plotTable(page, "requests");
    expect(tokens.rows.length).toBe(12);
    expect(tokens.series.sort()).toEqual(["limo", "limo-v2"]);
    const starts = tokens.rows.map((r) => r.t);
    const inBucket = (r: { created_at: number }, i: number) => r.created_at >= starts[i]! && r.created_at < (starts[i + 1] ?? window.to);
    for (const [i, row] of tokens.rows.entries()) {
      for (const [j, model] of tokens.series.entries()) {
        const expected = records.filter((r) => r.model === model && inBucket(r, i)).reduce((sum, r) => sum + r.prompt_tokens + r.completion_tokens, 0);
        expect(row.values[j], `${model} tokens at ${new Date(row.t).toISOString()}`).toBe(expected);
      }
    }
    const statuses = { OK: "ok", "Client disconnected": "client_disconnected", "Backend error": "backend_error", Timeout: "timeout" } as const;
    for (const [i, row] of requests.rows.entries()) {
      for (const [j, label] of requests.series.entries()) {
        const status = statuses[label as keyof typeof statuses];
        expect(row.values[j]).toBe(records.filter((r) => r.status === status && inBucket(r, i)).length);
      }
    }
    // Every record of the last hour is on the plot: the table's totals are the API's.
    const inWindow = records.filter((r) => r.created_at >= window.from && r.created_at < window.to);
    expect(requests.rows.flatMap((r) => r.values).reduce<number>((a, b) => a + (b ?? 0), 0)).toBe(inWindow.length);
    expect(inWindow.some((r) => r.status === "backend_error")).toBe(true);
    expectNoProblems(problems);
    await page.close();
  });

  it("a wrong token shows a sign-in error and no data, and stores nothing", async () => {
    const { page, problems } = await browser.newPage();
    for (const [kind, token] of [["operator", "not-the-admin-token"], ["key", "limo_sk_wrongwrongwrong"], ["key", fixture.adminToken]] as const) {
      await signIn(page, kind, token);
      await page.waitForSelector("#sign-in-error:not([hidden])");
      expect(await page.textContent("#sign-in-error")).toMatch(/not accepted/);
      expect(await page.locator("[data-chart], [data-stat], .topbar").count()).toBe(0);
      await expectTokenGone(page, token);
    }
    await screenshot(page, "sign-in-error");
    // The browser logs the refused sign-in reads (401) itself; nothing else may fail.
    expect(problems.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    expect(problems.dialogs).toEqual([]);
    await page.close();
  });

  it("sign-out removes the admin token from the page and the tab's storage", async () => {
    const { page, problems } = await browser.newPage();
    await signIn(page, "operator", fixture.adminToken);
    await settled(page);
    expect(await page.evaluate((key) => sessionStorage.getItem(key), STORAGE_KEY)).toContain(fixture.adminToken);
    await page.click("#sign-out");
    await page.waitForSelector("#sign-in-form");
    await expectTokenGone(page, fixture.adminToken);
    // A reload does not bring the session back.
    await page.reload();
    await page.waitForSelector("#sign-in-form");
    expect(await page.locator("[data-chart]").count()).toBe(0);
    expectNoProblems(problems);
    await page.close();
  });
});

describe("the dashboard, signed in with an API key", () => {
  it("shows the key's own account only, and cannot reach another account", async () => {
    const { page, problems } = await browser.newPage();
    const adminCalls: string[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname.startsWith("/admin/")) adminCalls.push(request.url());
    });
    await signIn(page, "key", fixture.hostile.key);
    await settled(page);
    expect(await page.textContent(".page-title h1")).toBe(HOSTILE_NAME);
    expect((await plots(page)).every((p) => p.points === 24 && p.drawn)).toBe(true);
    expect(await page.locator(".nav-link").allTextContents()).toEqual(["Usage"]);
    await screenshot(page, "key-holder-light");
    await page.emulateMedia({ colorScheme: "dark" });
    await page.waitForFunction(() => document.documentElement.dataset.theme === "dark");
    await settled(page);
    await screenshot(page, "key-holder-dark");
    await page.emulateMedia({ colorScheme: "light" });

    // Asking the page for another account lands on the key's own.
    await page.goto(`${stack.url}/dashboard#/accounts/${fixture.other.account.id}`);
    await settled(page);
    expect(page.url()).toMatch(/#\/usage/);
    expect(await page.textContent(".page-title h1")).toBe(HOSTILE_NAME);
    expect(await page.content()).not.toContain(fixture.other.account.id);
    // And the API itself refuses the key everything else, whatever the page is made to ask.
    const answers = await page.evaluate(
      async ({ key, other }) => {
        const get = async (path: string) => (await fetch(path, { headers: { authorization: `Bearer ${key}` } })).status;
        return [await get(`/admin/v1/accounts/${other}/usage/series`), await get(`/admin/v1/usage/series`), await get(`/v1/usage/series?account_id=${other}`)];
      },
      { key: fixture.hostile.key, other: fixture.other.account.id },
    );
    expect(answers).toEqual([401, 401, 400]);
    expect(adminCalls.filter((url) => !url.includes("/usage/series"))).toEqual([]);

    await page.click("#sign-out");
    await page.waitForSelector("#sign-in-form");
    await expectTokenGone(page, fixture.hostile.key);
    // Only the page.evaluate probes above were refused; the page itself logged nothing.
    expect(problems.errors.filter((e) => !/status of (400|401)/.test(e))).toEqual([]);
    expect(problems.dialogs).toEqual([]);
    await page.close();
  });
});
