/**
 * Fuzzing paths and methods: dot segments (raw and percent-encoded), double
 * slashes, encodings that decode to NUL or to nothing valid, very long paths
 * and query strings, unusual methods, with no key, an API key, the admin
 * token or the dev key. Whatever the route: no 5xx, the envelope on every
 * error, nothing internal; the admin API answers 2xx only to the admin token;
 * and none of it reaches the backend (no body here is a valid generation).
 */
import fc from "fast-check";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { api, TEST_API_KEY } from "../helpers/api";
import { httpMethod, pathSegment, queryString } from "../helpers/fuzz-arbitraries";
import { backendRequests, checkLogsForSecrets, checkResponse, FUZZ_SECRETS, fuzzClient, FUZZ_TIMEOUT_MS, fuzzParams, type FuzzClient } from "../helpers/fuzz";
import { newSim, type SimHandle } from "../helpers/sim";

type Credential = "none" | "api key" | "dev key" | "admin token";
const BODIES = [undefined, "", "{}", "{not json", '{"name":"x"}', "[]"] as const;

function authHeader(a: FuzzClient, credential: Credential): Record<string, string> {
  switch (credential) {
    case "none":
      return {};
    case "api key":
      return { authorization: `Bearer ${a.key}` };
    case "dev key":
      return { authorization: `Bearer ${TEST_API_KEY}` };
    case "admin token":
      return { authorization: `Bearer ${FUZZ_SECRETS.ADMIN_TOKEN}` };
  }
}

/** A Request the Fetch API would let a client build, or null (then there is nothing to send). */
function buildable(path: string, method: string, body: string | undefined): boolean {
  try {
    new Request(`https://api.test${path}`, { method, body: method === "GET" || method === "HEAD" ? undefined : body });
    return true;
  } catch {
    return false;
  }
}

/** The pathname the Worker will see, after the URL parser resolved dot segments. */
const pathnameOf = (path: string) => new URL(`https://api.test${path}`).pathname;

checkLogsForSecrets();

async function send(a: FuzzClient, method: string, path: string, credential: Credential, body: string | undefined) {
  const withBody = method !== "GET" && method !== "HEAD" && method !== "get";
  const res = await a.fetch(path, { method, headers: authHeader(a, credential), body: withBody ? body : undefined });
  const described = `${method} ${path.slice(0, 300)} (${credential}) body=${JSON.stringify(body)}`;
  const checked = await checkResponse(res, { method: method.toUpperCase(), describe: described });
  if (pathnameOf(path).startsWith("/admin") && checked.status < 300) {
    // Only the admin token opens the admin API, however the path is spelled.
    expect(credential, described).toBe("admin token");
  }
  return checked;
}

describe("fuzzing paths and methods", { timeout: FUZZ_TIMEOUT_MS }, () => {
  // One client for the file: storage written in beforeAll is seen by every test.
  let sim: SimHandle;
  let a: FuzzClient;
  beforeAll(async () => {
    sim = newSim();
    a = await fuzzClient(sim);
  });

  it("answers any method on any path safely and never reaches the backend", async () => {
    const path = fc
      .tuple(fc.array(pathSegment, { minLength: 1, maxLength: 6 }), queryString)
      .map(([segments, query]) => `/${segments.join("/")}${query}`);
    const credential = fc.constantFrom<Credential>("none", "api key", "dev key", "admin token");
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(httpMethod, path, credential, fc.constantFrom(...BODIES), async (method, p, cred, body) => {
        if (!buildable(p, method, body)) return;
        await send(a, method, p, cred, body);
        sent++;
      }),
      fuzzParams(250, 30),
    );
    // Most generated requests are ones a client can build.
    expect(sent).toBeGreaterThan(200);
    expect(await backendRequests(sim)).toBe(0);
  });

  it("serves /healthz and /openapi.json (no key needed) whatever the query and headers", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/healthz", "/openapi.json"), queryString, fc.constantFrom<Credential>("none", "api key", "admin token"), async (path, query, credential) => {
        const checked = await send(a, "GET", `${path}${query}`, credential, undefined);
        expect(checked.status, `${path}${query}`).toBe(200);
        expect(typeof JSON.parse(checked.text)).toBe("object");
      }),
      fuzzParams(60, 32),
    );
  });

  it.each([
    "/v1/../admin/v1/accounts",
    "/v1/%2e%2e/admin/v1/accounts",
    "/v1/%2E%2E/%2E%2E/admin/v1/accounts",
    "/v1/..%2fadmin/v1/accounts",
    "/v1/models/..%2f..%2fadmin%2fv1%2faccounts",
    "/v1/models/%2e%2e%2f%2e%2e%2fadmin%2fv1%2faccounts",
    "//admin/v1/accounts",
    "/admin//v1/accounts",
    "/ADMIN/v1/accounts",
    "/admin/v1/accounts/%2e%2e",
    "/admin/v1/accounts/..%2f..%2fkeys",
    "/admin/v1/accounts?limit=1e999",
    "/admin/v1/accounts?limit=-1&after=%00",
    "/admin/v1/accounts/%00/keys",
    "/admin/v1/keys/%E0%A4%A/rotate",
    "/admin/v1/accounts/%0d%0a/usage?format=csv",
    "/v1/usage?from=%00&to=%ff",
    "//v1/models",
    "/v1//models",
    "/V1/MODELS",
    "/v1/models/",
    "/v1/models/%2e%2e",
    "/v1/models/%00",
    "/v1/models/%",
    "/v1/models/%zz",
    "/v1/models/limo%2f..%2f..%2fhealthz",
    "/v1/models/GAIR%2FLIMO",
    "/v1/chat/completions/",
    "/v1/chat/completions%00",
    "/v1/chat/completions;a=b",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/healthz/",
    "/healthz/..",
    "/openapi.json/..",
    "/openapi.json%00",
    "/docs/../admin/v1/accounts",
    "/\\admin\\v1\\accounts",
  ])("answers %s safely with every credential and method", async (path) => {
    for (const credential of ["none", "api key", "admin token"] as const) {
      for (const method of ["GET", "POST", "HEAD", "OPTIONS"]) {
        await send(a, method, path, credential, method === "GET" || method === "HEAD" ? undefined : "{}");
      }
    }
    expect(await backendRequests(sim)).toBe(0);
  });

  it.each([
    ["a 100 KB path", () => `/${"a".repeat(100_000)}`],
    ["a 100 KB model id", () => `/v1/models/${"x".repeat(100_000)}`],
    ["a 100 KB account id", () => `/admin/v1/accounts/${"x".repeat(100_000)}`],
    ["30,000 encoded characters", () => `/admin/v1/accounts/${"%41".repeat(30_000)}/keys`],
    ["1,000 segments", () => `/v1${"/models".repeat(1_000)}`],
    ["a 100 KB query string", () => `/v1/models?${"a=b&".repeat(25_000)}`],
    ["10,000 dot segments", () => `/v1${"/..".repeat(10_000)}/admin/v1/accounts`],
  ])("answers %s safely, echoing it at most as JSON text", async (_name, make) => {
    const path = make();
    for (const credential of ["none", "api key", "admin token"] as const) {
      for (const method of ["GET", "POST"]) await send(a, method, path, credential, method === "POST" ? "{}" : undefined);
    }
    expect(await backendRequests(sim)).toBe(0);
  });

  it("keeps the admin API invisible without ADMIN_TOKEN: 404 for every path, method and token", async () => {
    // The same Worker and storage with the admin API switched off (the account and key above stay valid).
    const closed: FuzzClient = { ...a, ...api({ ...a.env, ADMIN_TOKEN: undefined }) };
    const adminPath = fc
      .tuple(fc.array(pathSegment, { maxLength: 4 }), queryString)
      .map(([segments, query]) => `/admin/v1/${segments.join("/")}${query}`);
    await fc.assert(
      fc.asyncProperty(httpMethod, adminPath, fc.constantFrom<Credential>("none", "api key", "admin token"), async (method, path, credential) => {
        if (!buildable(path, method, undefined) || !pathnameOf(path).startsWith("/admin")) return;
        const checked = await send(closed, method, path, credential, method === "GET" || method === "HEAD" ? undefined : "{}");
        if (method.toUpperCase() === "OPTIONS" || method.toUpperCase() === "HEAD") expect(checked.status).toBeGreaterThanOrEqual(400);
        else expect(checked.error?.code, `${method} ${path}`).toBe("not_found");
      }),
      fuzzParams(120, 31),
    );
  });
});
