/**
 * @module helpers/fuzz
 * What every fuzz test checks about a response, whatever it sent: no 5xx
 * (unless the test says a backend failure is expected), our request id,
 * OpenAI's error envelope on every error, no stack trace or internal path,
 * and no secret anywhere in the body, the headers or the logs. Also the
 * environment the fuzz tests run in (every secret set, a simulator backend)
 * and fast-check's parameters (a fixed seed, so a failure replays).
 */
import fc from "fast-check";
import { afterEach, beforeEach, expect, vi } from "vitest";
import { accountStub, adminApi, TEST_ADMIN_TOKEN, type AdminApi } from "./admin";
import { simBackends, TEST_API_KEY } from "./api";
import { pollUntil, type SimHandle } from "./sim";

/** One seed for the whole suite; a property adds its own offset so each explores different inputs. */
export const FUZZ_SEED = 20_261_125;

/**
 * Time a fuzz test may take, in ms. Each runs in a second or two; the margin is
 * for a loaded machine, so that a slow run is slow rather than a timeout that
 * leaves its requests running into the next test.
 */
export const FUZZ_TIMEOUT_MS = 60_000;

/** fast-check parameters: reproducible, and a failure's counterexample in the report. */
export function fuzzParams<T>(numRuns: number, seedOffset: number): fc.Parameters<T> {
  return { seed: FUZZ_SEED + seedOffset, numRuns, verbose: 1 };
}

/** Every secret the fuzzed Worker holds. None may ever come back in a response or reach a log. */
export const FUZZ_SECRETS = {
  DEV_API_KEY: TEST_API_KEY,
  ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  MODAL_KEY: "wk-fuzzmodalkey7Qe9Zr2Lx4",
  MODAL_SECRET: "ws-fuzzmodalsecretHc4Vb8Np1",
  VLLM_API_KEY: "vllm-fuzzapikeyTg5Ks3Wd6",
} as const;

/** The configured secrets plus the keys fuzz clients were given. */
const SECRET_VALUES = new Set<string>(Object.values(FUZZ_SECRETS));

/**
 * Text that only a leaked stack trace, exception or source location would
 * contain. Generators never produce these (see `isEchoSafe`), so finding one
 * in a response means the Worker put it there.
 */
const INTERNALS: readonly RegExp[] = [
  // Stack frames, raw or JSON-escaped, and frames with a location.
  /(?:\n|\\n)\s+at \S/,
  /\bat \S+ \(\S*:\d+:\d+\)/,
  // Source locations and paths.
  /\/work\//,
  /\.[jt]s:\d/,
  /node_modules/,
  /file:\/\//,
  // Exceptions and runtime internals by name.
  /\b(Type|Range|Syntax|Reference|URI|Eval|Aggregate)Error\b/,
  /\bZodError\b/,
  /\bworkerd\b|\bjsg\b/,
  /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/,
];

/** Whether a generated string may appear in a request without tripping the internals check when echoed. */
export function isEchoSafe(text: string): boolean {
  return !INTERNALS.some((pattern) => pattern.test(text)) && ![...SECRET_VALUES].some((s) => text.includes(s));
}

/** The Worker under fuzz: every secret configured, the test's simulator as the backend. */
export function fuzzApi(sim: SimHandle, overrides: Parameters<typeof adminApi>[0] = {}): AdminApi {
  return adminApi({
    BACKENDS: simBackends(sim.url),
    MODAL_KEY: FUZZ_SECRETS.MODAL_KEY,
    MODAL_SECRET: FUZZ_SECRETS.MODAL_SECRET,
    VLLM_API_KEY: FUZZ_SECRETS.VLLM_API_KEY,
    ...overrides,
  });
}

export interface FuzzClient extends AdminApi {
  accountId: string;
  /** A live key of an account without limits: its requests reach the simulator, however many. */
  key: string;
  /** POSTs with the live key (a string body is sent as is, anything else as JSON). */
  send(path: string, body: BodyInit | object, headers?: Record<string, string>): Promise<Response>;
}

/** fuzzApi plus an unlimited account and a live key (created through the admin API). */
export async function fuzzClient(sim: SimHandle, overrides: Parameters<typeof adminApi>[0] = {}): Promise<FuzzClient> {
  const a = fuzzApi(sim, overrides);
  const account = await a.createAccount("Fuzz account");
  const unlimited = { requests_per_minute: null, tokens_per_minute: null, max_concurrent_requests: null, monthly_token_quota: null };
  const patched = await a.admin("PATCH", `/accounts/${account.id}`, { limits: unlimited });
  expect(patched.status, await patched.clone().text()).toBe(200);
  const { key } = await a.createKey(account.id, { name: "fuzz" });
  SECRET_VALUES.add(key);
  return {
    ...a,
    accountId: account.id,
    key,
    send(path, body, headers = {}) {
      const isRaw = typeof body === "string" || body instanceof Uint8Array || body instanceof ReadableStream || body instanceof ArrayBuffer;
      return a.fetch(path, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
        body: isRaw ? (body as BodyInit) : JSON.stringify(body),
        duplex: "half",
      } as RequestInit);
    },
  };
}

export interface Checked {
  status: number;
  headers: Headers;
  text: string;
  /** The error envelope of a non-2xx answer (null for 2xx and HEAD). */
  error: { message: string; type: string; param: string | null; code: string | null } | null;
}

export interface CheckOptions {
  /** The request's method (HEAD answers carry no body). */
  method?: string;
  /** 5xx statuses this test expects (a backend that is down). */
  allow5xx?: readonly number[];
  /** More strings that must not come back (say, a backend's URL). */
  forbidden?: readonly string[];
  /** What was sent, for the failure message. */
  describe?: string;
}

/**
 * Reads the whole response and asserts the invariants every answer keeps.
 * Returns what it read so a property can assert more.
 */
export async function checkResponse(res: Response, options: CheckOptions = {}): Promise<Checked> {
  const what = options.describe ?? "request";
  const text = await res.text();
  const status = res.status;
  const context = `${what} -> ${status} ${text.slice(0, 300)}`;
  if (status >= 500) expect(options.allow5xx ?? [], `unexpected 5xx: ${context}`).toContain(status);
  expect(res.headers.get("x-request-id"), `x-request-id: ${context}`).toMatch(/^req_[0-9a-f]{24}$/);

  const forbidden = [...SECRET_VALUES, ...(options.forbidden ?? [])];
  const headerText = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  for (const secret of forbidden) {
    expect(text.includes(secret), `secret or internal value "${secret}" in the body: ${context}`).toBe(false);
    expect(headerText.includes(secret), `secret or internal value "${secret}" in the headers: ${context}\n${headerText}`).toBe(false);
  }
  for (const pattern of INTERNALS) {
    expect(pattern.test(text), `internals (${pattern}) in the body: ${context}`).toBe(false);
    expect(pattern.test(headerText), `internals (${pattern}) in the headers: ${context}`).toBe(false);
  }

  let error: Checked["error"] = null;
  if (status >= 400 && options.method !== "HEAD") {
    expect(res.headers.get("content-type") ?? "", `content type: ${context}`).toMatch(/^application\/json/);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`error body is not JSON: ${context}`);
    }
    const envelope = body as { error?: Record<string, unknown> } | null;
    const e = envelope?.error;
    const shaped =
      typeof envelope === "object" &&
      envelope !== null &&
      Object.keys(envelope).join() === "error" &&
      typeof e === "object" &&
      e !== null &&
      Object.keys(e).sort().join() === "code,message,param,type" &&
      typeof e.message === "string" &&
      typeof e.type === "string" &&
      (e.param === null || typeof e.param === "string") &&
      (e.code === null || typeof e.code === "string");
    expect(shaped, `not OpenAI's error envelope: ${context}`).toBe(true);
    error = (body as { error: NonNullable<Checked["error"]> }).error;
    expect(error.message.length, `empty error message: ${context}`).toBeGreaterThan(0);
  }
  return { status, headers: res.headers, text, error };
}

/** The simulator's request counter, to prove a rejected request never reached the backend. */
export async function backendRequests(sim: SimHandle): Promise<number> {
  return (await sim.stats()).requests_total;
}

/**
 * Captures everything printed through console.* (the Worker and its Durable
 * Objects share the test isolate) and silences it; `assertNoSecrets` then
 * checks that no secret reached a log line.
 */
export function captureLogs(): { lines: string[]; assertNoSecrets(): void; restore(): void } {
  const lines: string[] = [];
  const spies = (["log", "info", "warn", "error", "debug"] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" "))),
  );
  return {
    lines,
    assertNoSecrets() {
      const all = lines.join("\n");
      for (const secret of SECRET_VALUES) expect(all.includes(secret), `secret "${secret}" was logged`).toBe(false);
    },
    restore() {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/** Object.prototype as the test isolate first saw it; a polluting request would change it. */
const PRISTINE_PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join(",");

export function expectPrototypeIntact(what = "request"): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort().join(","), `Object.prototype polluted by ${what}`).toBe(PRISTINE_PROTOTYPE_KEYS);
  const probe: Record<string, unknown> = {};
  expect(probe.polluted, `Object.prototype.polluted set by ${what}`).toBeUndefined();
}

/** The request ids in the account's usage ledger now. */
export async function ledgerIds(client: FuzzClient): Promise<Set<string>> {
  return new Set((await accountStub(client.accountId).ledger()).map((e) => e.request_id));
}

/**
 * Waits until the account's usage ledger gained the records of `admitted` (the
 * request ids of the answers that were admitted) since `before`, then asserts
 * it gained nothing else: every admitted request ends in one record, and a
 * refused one in none.
 */
export async function expectLedger(client: FuzzClient, before: ReadonlySet<string>, admitted: ReadonlySet<string>): Promise<void> {
  const added = async () => [...(await ledgerIds(client))].filter((id) => !before.has(id));
  const ids = await pollUntil(added, (list) => list.length >= admitted.size).catch(added);
  const extra = ids.filter((id) => !admitted.has(id));
  const missing = [...admitted].filter((id) => !ids.includes(id));
  expect({ extra, missing }, "usage ledger vs admitted requests").toEqual({ extra: [], missing: [] });
}

/**
 * Captures console output around every test of the file and checks, after
 * each, that no secret reached a log line. Returns the current capture.
 */
export function checkLogsForSecrets(): () => ReturnType<typeof captureLogs> {
  let logs: ReturnType<typeof captureLogs>;
  beforeEach(() => {
    logs = captureLogs();
  });
  afterEach(() => {
    logs.restore();
    logs.assertNoSecrets();
  });
  return () => logs;
}

/**
 * Sends each generated body to `path` and checks every invariant: the answer
 * (checkResponse), the backend reached once by a 2xx and never otherwise, the
 * prototype intact, one usage record per admitted request and none for a
 * refused one; and that the generator reached both sides of validation (a 200
 * and a 400 seen), or it tests little.
 */
export async function fuzzRoute(client: FuzzClient, sim: SimHandle, path: string, bodies: fc.Arbitrary<string>, numRuns: number, seedOffset: number): Promise<void> {
  const statuses = new Map<number, number>();
  const admitted = new Set<string>();
  const ledgerBefore = await ledgerIds(client);
  await fc.assert(
    fc.asyncProperty(bodies, async (text) => {
      const start = await backendRequests(sim);
      const res = await client.send(path, text);
      const checked = await checkResponse(res, { describe: `POST ${path} ${text.slice(0, 500)}` });
      statuses.set(checked.status, (statuses.get(checked.status) ?? 0) + 1);
      const expected = checked.status < 300 ? start + 1 : start;
      expect(await backendRequests(sim), `backend requests after ${checked.status} for ${text.slice(0, 500)}: ${checked.text.slice(0, 300)}`).toBe(expected);
      if (checked.status < 300) admitted.add(checked.headers.get("x-request-id")!);
      expectPrototypeIntact(text.slice(0, 200));
    }),
    fuzzParams(numRuns, seedOffset),
  );
  await expectLedger(client, ledgerBefore, admitted);
  expect([...statuses.keys()], `statuses seen: ${JSON.stringify([...statuses])}`).toContain(200);
  expect([...statuses.keys()], `statuses seen: ${JSON.stringify([...statuses])}`).toContain(400);
}
