/**
 * @module browser
 * A real browser for the dashboard's tests: Debian's Chromium (`.ci/run`
 * installs the `chromium` package when it is missing) driven by
 * playwright-core, headless, with a fresh profile per launch. Every page's
 * console errors, uncaught exceptions, Content-Security-Policy violations
 * and dialogs (an `alert` from injected markup) are collected, and
 * screenshots go to test-artifacts/browser (gitignored).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** Debian's package puts it here; CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS_DIR = join(import.meta.dirname, "..", "..", "test-artifacts", "browser");

/**
 * Without the background-networking flags Chromium's own connections (field
 * trials, component updates, sync) are refused on this network and show up
 * as errors; QUIC and the GPU are of no use headless.
 */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface PageProblems {
  /** console.error lines, uncaught exceptions and failed requests, as text. */
  errors: string[];
  /** Messages of `alert`/`confirm`/`prompt` dialogs: injected script running. */
  dialogs: string[];
}

export interface Browser {
  context: BrowserContext;
  /** A new tab whose problems are collected into the returned record. */
  newPage(): Promise<{ page: Page; problems: PageProblems }>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** IANA zone the browser pretends to be in (the dashboard draws in the viewer's zone). */
  timezoneId?: string;
  colorScheme?: "light" | "dark";
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const profile = mkdtempSync(join(tmpdir(), "limo-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 900 },
    deviceScaleFactor: 1,
    locale: "en-US",
    timezoneId: options.timezoneId ?? "UTC",
    colorScheme: options.colorScheme ?? "light",
  });
  return {
    context,
    newPage: async () => {
      const page = await context.newPage();
      const problems: PageProblems = { errors: [], dialogs: [] };
      page.on("console", (message) => {
        if (message.type() === "error") problems.errors.push(`console: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.errors.push(`uncaught: ${error.message}`));
      page.on("requestfailed", (request) => {
        // A read still in flight when the test navigates away is cancelled, not failed.
        const reason = request.failure()?.errorText ?? "";
        if (reason !== "net::ERR_ABORTED") problems.errors.push(`request failed: ${request.url()} ${reason}`);
      });
      page.on("dialog", (dialog) => {
        problems.dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      return { page, problems };
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as test-artifacts/browser/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
