/**
 * Fuzzing Authorization and the other request headers: empty, very long,
 * non-ASCII, odd spacing and casing, several at once, forged keys with valid
 * checksums for accounts that do not exist. A request is let in only with the
 * exact key; every refusal is the 401 envelope, echoing nothing it was sent.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TEST_API_KEY } from "../helpers/api";
import { headerValue, hostileString } from "../helpers/fuzz-arbitraries";
import { backendRequests, checkLogsForSecrets, checkResponse, expectLedger, FUZZ_SECRETS, fuzzClient, FUZZ_TIMEOUT_MS, fuzzParams, isEchoSafe, ledgerIds } from "../helpers/fuzz";
import { newSim } from "../helpers/sim";
import { generateApiKey, newAccountId } from "../../worker/accounts/keys/key-format";

const VALID_CHAT = '{"model":"limo","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}';

/** Authorization values for a client whose key is `key`, each with whether it must authenticate. */
const authorization = (key: string): fc.Arbitrary<{ value: string | null; accepted: boolean }> => fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      { value: null, accepted: false },
      { value: "", accepted: false },
      { value: "Bearer", accepted: false },
      { value: "Bearer ", accepted: false },
      { value: `Bearer ${key}`, accepted: true },
      { value: `bearer ${key}`, accepted: true },
      { value: `BEARER ${key}`, accepted: true },
      { value: `Bearer   ${key}`, accepted: true },
      { value: `Bearer\t${key}`, accepted: true },
      { value: `Bearer ${key}   `, accepted: true },
      { value: ` Bearer ${key}`, accepted: true },
      { value: `Bearer ${key} ${key}`, accepted: false },
      { value: `Bearer ${key},Bearer ${key}`, accepted: false },
      { value: `Bearer${key}`, accepted: false },
      { value: `Basic ${key}`, accepted: false },
      { value: `Token ${key}`, accepted: false },
      { value: key, accepted: false },
      { value: `Bearer ${key}x`, accepted: false },
      { value: `Bearer ${key.slice(0, -1)}`, accepted: false },
      { value: `Bearer ${key.toUpperCase()}`, accepted: false },
      { value: `Bearer "${key}"`, accepted: false },
      // Lenient but harmless: the key must still match exactly; JS's \s counts U+00A0 as space.
      { value: `Bearer ${key}\u00a0`, accepted: true },
      { value: `Bearer ${FUZZ_SECRETS.ADMIN_TOKEN}`, accepted: false },
      { value: `Bearer ${FUZZ_SECRETS.MODAL_KEY}`, accepted: false },
      { value: `Bearer ${TEST_API_KEY.toUpperCase()}`, accepted: false },
      { value: `Bearer ${"x".repeat(513)}`, accepted: false },
      { value: `Bearer ${"x".repeat(100_000)}`, accepted: false },
      { value: "Bearer ñññ", accepted: false },
      { value: "Bearer Ã©Ã©", accepted: false },
      { value: "Bearer limo_sk_", accepted: false },
      { value: `Bearer limo_sk_${"0".repeat(65)}`, accepted: false },
      { value: `Bearer limo_test_${"Z".repeat(65)}`, accepted: false },
    ),
  },
  // Well-formed keys with valid checksums, routed to accounts that do not exist.
  { weight: 1, arbitrary: fc.constantFrom("live", "test").map((mode) => ({ value: `Bearer ${generateApiKey(newAccountId(), mode as "live" | "test")}`, accepted: false })) },
  { weight: 2, arbitrary: headerValue.map((v) => ({ value: v, accepted: false })) },
  { weight: 1, arbitrary: headerValue.map((v) => ({ value: `Bearer ${v}`, accepted: false })) },
);

/** Other headers a hostile client may send; none changes whether or how it is answered. */
const extraHeaders = fc.dictionary(
  fc.constantFrom("x-request-id", "origin", "accept", "accept-encoding", "content-encoding", "x-forwarded-for", "cf-connecting-ip", "cookie", "x-api-key", "openai-organization", "user-agent", "range", "if-none-match", "modal-key", "modal-secret"),
  headerValue,
  { maxKeys: 4 },
);

checkLogsForSecrets();

describe("fuzzing authentication headers", { timeout: FUZZ_TIMEOUT_MS }, () => {
  it("lets in exactly the right key, refuses the rest with a 401 envelope, and echoes nothing sent", async () => {
    const sim = newSim();
    const a = await fuzzClient(sim);
    const admitted = new Set<string>();
    const ledgerBefore = await ledgerIds(a);
    await fc.assert(
      fc.asyncProperty(
        authorization(a.key),
        extraHeaders,
        fc.constantFrom(["GET", "/v1/models"], ["GET", "/v1/models/limo"], ["POST", "/v1/chat/completions"], ["POST", "/v1/completions"]),
        async (auth, extra, [method, path]) => {
          const before = await backendRequests(sim);
          const headers = new Headers(extra);
          if (auth.value !== null) headers.set("authorization", auth.value);
          const body = method === "POST" ? (path!.endsWith("chat/completions") ? VALID_CHAT : '{"model":"limo","prompt":"hi","max_tokens":4}') : undefined;
          const res = await a.fetch(path!, { method, headers, body });
          const token = auth.value?.replace(/^\s*\S+\s*/, "") ?? "";
          const presented = [...Object.values(extra), token].filter((v) => v.length >= 16 && isEchoSafe(v));
          const described = `${method} ${path} authorization=${JSON.stringify(auth.value?.slice(0, 120))} extra=${JSON.stringify(extra).slice(0, 300)}`;
          const checked = await checkResponse(res, { describe: described, forbidden: presented });
          if (auth.accepted) {
            expect(checked.status, described).toBe(200);
          } else {
            expect(checked.status, `${described}: ${checked.text}`).toBe(401);
            expect(checked.error?.code).toBe("invalid_api_key");
            expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
          }
          // Our id, never the client's.
          if (extra["x-request-id"]) expect(res.headers.get("x-request-id")).not.toBe(extra["x-request-id"]);
          expect(await backendRequests(sim), described).toBe(auth.accepted && method === "POST" ? before + 1 : before);
          if (auth.accepted && method === "POST") admitted.add(res.headers.get("x-request-id")!);
        },
      ),
      fuzzParams(150, 20),
    );
    await expectLedger(a, ledgerBefore, admitted);
  });

  it("joins several Authorization headers into one value that is refused", async () => {
    const sim = newSim();
    const a = await fuzzClient(sim);
    for (const second of [`Bearer ${a.key}`, "Bearer wrong", ""]) {
      const headers = new Headers();
      headers.append("authorization", `Bearer ${a.key}`);
      headers.append("authorization", second);
      const res = await a.fetch("/v1/models", { headers });
      const checked = await checkResponse(res, { describe: `two authorization headers, second ${second}` });
      // "Bearer KEY, Bearer KEY" (or "Bearer KEY, ") is not one token: refused, never half-parsed.
      expect(checked.status).toBe(401);
    }
  });

  it("refuses hostile model ids in the path with a 404, echoing them only as JSON text", async () => {
    const sim = newSim();
    const a = await fuzzClient(sim);
    await fc.assert(
      fc.asyncProperty(hostileString.filter((s) => s.length > 0 && !/^(limo|limo-v2|GAIR\/LIMO|GAIR\/LIMO-v2)$/.test(s)), async (id) => {
        let encoded: string;
        try {
          encoded = encodeURIComponent(id);
        } catch {
          return;
        }
        const res = await a.get(`/v1/models/${encoded}`);
        const checked = await checkResponse(res, { describe: `model id ${JSON.stringify(id)}` });
        expect([400, 404]).toContain(checked.status);
      }),
      fuzzParams(100, 21),
    );
    expect(await backendRequests(sim)).toBe(0);
  });
});
