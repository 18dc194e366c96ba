/**
 * Fuzzing the admin API (/admin/v1): every operation with mutated bodies
 * (wrong types, hostile names and plans, out-of-range limits and expiries,
 * prototype-polluting and duplicate keys), hostile ids and query strings,
 * with the admin token and without. No 5xx, the envelope on every error,
 * no secret in any answer (created keys excepted: that is their point),
 * the control plane intact afterwards, and the backend never called.
 */
import fc from "fast-check";
import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  applyMutations,
  fieldValue,
  hostileSegment,
  hostileString,
  mutationArbitrary,
  numberToken,
  objectText,
  queryString,
  stringToken,
} from "../helpers/fuzz-arbitraries";
import { backendRequests, checkLogsForSecrets, checkResponse, expectPrototypeIntact, FUZZ_SECRETS, fuzzClient, FUZZ_TIMEOUT_MS, fuzzParams, type FuzzClient } from "../helpers/fuzz";
import { newSim } from "../helpers/sim";

const LIMIT_FIELDS = ["requests_per_minute", "tokens_per_minute", "max_concurrent_requests", "monthly_token_quota"];

const plausible = fc.oneof(
  numberToken,
  stringToken,
  fc.constantFrom("null", "true", "false", "[]", "{}", '"standard"', '"free"', '"pro"', '"dev"', '"active"', '"suspended"', '"live"', '"test"', '["limo"]', '["https://app.example.com"]', '["http://[::1]:8787"]', '["javascript:alert(1)"]', '["https://a.example/path"]', '["null"]'),
);

const limits = fc
  .array(mutationArbitrary(LIMIT_FIELDS, fc.oneof(numberToken, plausible)), { maxLength: 4 })
  .map((m) => objectText(applyMutations([["requests_per_minute", "60"]], m)));

function body(fields: readonly string[], base: [string, string][]): fc.Arbitrary<string> {
  const value = fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 2, arbitrary: limits }, { weight: 2, arbitrary: fieldValue(fields) });
  return fc.oneof(
    { weight: 8, arbitrary: fc.array(mutationArbitrary(fields, value), { maxLength: 4 }).map((m) => objectText(applyMutations(base, m))) },
    { weight: 1, arbitrary: fc.constantFrom("", "{", "null", "[]", '"x"', "1e999") },
  );
}

const BODIES = {
  createAccount: body(["name", "plan"], [["name", '"Fuzz"']]),
  updateAccount: body(["name", "plan", "status", "limits"], [["limits", '{"requests_per_minute":60}']]),
  createKey: body(["name", "mode", "expires_at", "models", "origins"], [["name", '"k"']]),
  rotateKey: body(["grace_seconds"], [["grace_seconds", "0"]]),
};

/** An id in a path: a real one, a well-formed unknown one, or anything at all (encoded). */
function id(real: string, prefix: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(real) },
    { weight: 1, arbitrary: fc.constant(`${prefix}0000000000000000`) },
    { weight: 3, arbitrary: hostileSegment },
  );
}

type Operation = { method: string; path: string; body?: string };

function operations(accountId: string, keyId: string): fc.Arbitrary<Operation> {
  const account = id(accountId, "acct_");
  const key = id(keyId, "key_");
  return fc.oneof(
    fc.record({ method: fc.constant("POST"), path: fc.constant("/accounts"), body: BODIES.createAccount }),
    fc.record({ method: fc.constant("GET"), path: queryString.map((q) => `/accounts${q}`) }),
    fc.record({ method: fc.constant("GET"), path: account.map((a) => `/accounts/${a}`) }),
    fc.record({ method: fc.constant("PATCH"), path: account.map((a) => `/accounts/${a}`), body: BODIES.updateAccount }),
    fc.record({ method: fc.constant("POST"), path: account.map((a) => `/accounts/${a}/keys`), body: BODIES.createKey }),
    fc.record({ method: fc.constant("GET"), path: fc.tuple(account, queryString).map(([a, q]) => `/accounts/${a}/keys${q}`) }),
    fc.record({ method: fc.constant("DELETE"), path: key.map((k) => `/keys/${k}`) }),
    fc.record({ method: fc.constant("POST"), path: key.map((k) => `/keys/${k}/rotate`), body: BODIES.rotateKey }),
  );
}

checkLogsForSecrets();

/** A target account with one key for the operations to work on (not the fuzz client's own). */
async function target(a: FuzzClient): Promise<{ accountId: string; keyId: string }> {
  const account = await a.createAccount("Target");
  const key = await a.createKey(account.id, { name: "target" });
  return { accountId: account.id, keyId: key.id };
}

describe("fuzzing the admin API", { timeout: FUZZ_TIMEOUT_MS }, () => {
  it("answers every operation with any body, id and query safely, with the admin token", async () => {
    const sim = newSim();
    const a = await fuzzClient(sim);
    const { accountId, keyId } = await target(a);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(operations(accountId, keyId), async (op) => {
        const res = await a.admin(op.method, op.path, op.body);
        const described = `${op.method} /admin/v1${op.path.slice(0, 200)} ${op.body?.slice(0, 300) ?? ""}`;
        const checked = await checkResponse(res, { describe: described, forbidden: [a.key] });
        statuses.set(checked.status, (statuses.get(checked.status) ?? 0) + 1);
        if (checked.status < 300) expect(typeof JSON.parse(checked.text), described).toBe("object");
        expectPrototypeIntact(described);
      }),
      fuzzParams(200, 40),
    );
    // Both sides of validation were reached, or the generators test little.
    expect([...statuses.keys()].some((s) => s < 300), JSON.stringify([...statuses])).toBe(true);
    expect([...statuses.keys()].some((s) => s === 400), JSON.stringify([...statuses])).toBe(true);

    // The control plane survived (names like "'; DROP TABLE accounts; --" included).
    const list = await a.admin("GET", "/accounts?limit=100");
    expect(list.status).toBe(200);
    const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{ name: string }>();
    expect(tables.results.map((t) => t.name)).toEqual(expect.arrayContaining(["accounts", "api_keys"]));
    expect(await backendRequests(sim)).toBe(0);
  });

  it("refuses every operation without the right token, changing nothing", async () => {
    const sim = newSim();
    const a = await fuzzClient(sim);
    const { accountId, keyId } = await target(a);
    const count = async () => (await env.DB.prepare("SELECT (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM api_keys) AS n").first<{ n: number }>())!.n;
    const rows = await count();
    const wrongToken = fc.oneof(
      fc.constantFrom<string | null>(null, "", "x", a.key, FUZZ_SECRETS.MODAL_KEY, FUZZ_SECRETS.ADMIN_TOKEN.slice(0, -1), `${FUZZ_SECRETS.ADMIN_TOKEN} `, FUZZ_SECRETS.ADMIN_TOKEN.toUpperCase()),
      hostileString.filter((s) => /^[\x21-\x7e]+$/.test(s)),
    );
    await fc.assert(
      fc.asyncProperty(operations(accountId, keyId), wrongToken, async (op, token) => {
        const res = await a.admin(op.method, op.path, op.body, token);
        const described = `${op.method} /admin/v1${op.path.slice(0, 200)} token=${JSON.stringify(token)}`;
        const checked = await checkResponse(res, { describe: described, forbidden: [a.key] });
        // `ADMIN_TOKEN ` (trailing space) is the token: header values are trimmed.
        if (token?.trim() === FUZZ_SECRETS.ADMIN_TOKEN) return;
        expect(checked.status, described).toBe(401);
        expect(checked.error?.code).toBe("invalid_api_key");
      }),
      fuzzParams(100, 41),
    );
    expect(await count()).toBe(rows);
  });
});
