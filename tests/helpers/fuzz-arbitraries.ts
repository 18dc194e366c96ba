/**
 * @module helpers/fuzz-arbitraries
 * fast-check generators of hostile input: strings, raw JSON number tokens
 * (`1e999` parses to Infinity, `-0`, integers past 2^53), whole JSON texts
 * with duplicate and prototype-polluting keys, deep nesting, request bodies
 * built by mutating a valid one, header values and paths. Bodies are built
 * as JSON *text*, not objects, so they can hold what JSON.stringify never
 * writes (duplicate keys, an own `__proto__` key, out-of-range numbers).
 */
import fc from "fast-check";
import { isEchoSafe } from "./fuzz";

/** Strings chosen for what they break elsewhere: parsers, SQL, templates, terminals, prototypes. */
export const NASTY_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "\u0000\u0001\u0002\u001f\u007f",
  "\t\r\n",
  "\r\nX-Injected: 1",
  "\u202egnp.exe",
  "\u200b\u200c\u200d\ufeff",
  "\ud800",
  "\udfff",
  "\ud83d",
  "💥🧮∑∫√π",
  "ＬＩＭＯ",
  "limo\u0000",
  "limo ",
  " limo",
  "LIMO",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e309",
  "-0",
  "0x1F",
  "null",
  "undefined",
  "true",
  "[]",
  "{}",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "__defineGetter__",
  "{{7*7}}",
  "${7*7}",
  "%s%s%s%n",
  "'; DROP TABLE accounts; --",
  "\" OR 1=1 --",
  "<script>alert(1)</script>",
  "../../../etc/passwd",
  "..%2f..%2fadmin",
  "data: [DONE]\n\n",
  "\n\ndata: {\"error\":{}}\n\n",
  "x".repeat(257),
  "9".repeat(400),
  "é".repeat(5000),
];

/** Any string a client might send, from ordinary to hostile (never one that looks like our internals). */
export const hostileString: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
    // Any code point, lone surrogates included.
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  )
  .filter(isEchoSafe);

/** Number tokens as they appear in JSON text, including ones JSON.stringify never writes. */
export const numberToken: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "0",
      "-0",
      "1",
      "-1",
      "2",
      "8",
      "9",
      "1.5",
      "0.5",
      "-2.5",
      "2.0000000001",
      "1e999",
      "-1e999",
      "1e308",
      "1.7976931348623157e308",
      "4.9e-324",
      "1e-400",
      "9007199254740991",
      "9007199254740993",
      "9223372036854775807",
      "9223372036854775808",
      "-9223372036854775809",
      "18446744073709551616",
      "123456789012345678901234567890",
      "2147483648",
      "0.1e1",
      "1E+2",
      "-0.0",
    ),
  },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)) },
);

export const stringToken: fc.Arbitrary<string> = hostileString.map((s) => JSON.stringify(s));

/** Keys of a JSON object: known fields, prototype-polluting ones, anything. */
export function keyArbitrary(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...known) },
    { weight: 2, arbitrary: fc.constantFrom("__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty") },
    { weight: 1, arbitrary: hostileString },
  );
}

/** Serialises entries as a JSON object, keeping duplicates and own `__proto__` keys. */
export function objectText(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
}

/** A payload that pollutes Object.prototype if anyone merges it naively. */
export const pollutingObject = objectText([
  ["__proto__", objectText([["polluted", '"yes"']])],
  ["constructor", objectText([["prototype", objectText([["polluted", '"yes"']])]])],
]);

/** Nesting deep enough to overflow a recursive walker (as text: about 2 bytes a level). */
export const deepNesting: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(10, 100, 1_000, 10_000, 100_000, 300_000), fc.constantFrom("array", "object", "mixed"))
  .map(([depth, kind]) => {
    if (kind === "array") return "[".repeat(depth) + "]".repeat(depth);
    if (kind === "object") return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    return '[{"a":'.repeat(depth / 2) + "1" + "}]".repeat(depth / 2);
  });

/** Any JSON value as text, of bounded size, with hostile keys, strings and numbers. */
export function jsonValueText(known: readonly string[] = []): fc.Arbitrary<string> {
  const key = keyArbitrary(known.length > 0 ? known : ["a"]);
  const { value } = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      numberToken,
      stringToken,
      fc.constantFrom("true", "false", "null"),
      fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
      fc.array(fc.tuple(key, tie("value")), { maxLength: 4 }).map(objectText),
      fc.constant(pollutingObject),
    ),
  }));
  return value;
}

/** Any value for a field: mostly hostile, sometimes very deep. */
export function fieldValue(known: readonly string[] = []): fc.Arbitrary<string> {
  return fc.oneof({ weight: 12, arbitrary: jsonValueText(known) }, { weight: 1, arbitrary: deepNesting });
}

/** One change to a JSON object given as ordered entries. */
export type Mutation =
  | { op: "set"; key: string; value: string }
  | { op: "delete"; key: string }
  | { op: "duplicate"; key: string; value: string }
  | { op: "pollute" };

export function mutationArbitrary(fields: readonly string[], value: fc.Arbitrary<string>): fc.Arbitrary<Mutation> {
  const key = keyArbitrary(fields);
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant("set" as const), key, value }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), key: fc.constantFrom(...fields) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("duplicate" as const), key: fc.constantFrom(...fields), value }) },
    { weight: 1, arbitrary: fc.constant({ op: "pollute" as const }) },
  );
}

/** Applies mutations to entries (set replaces the first entry of that key or appends). */
export function applyMutations(base: readonly (readonly [string, string])[], mutations: readonly Mutation[]): [string, string][] {
  const entries = base.map(([k, v]) => [k, v] as [string, string]);
  for (const m of mutations) {
    if (m.op === "set") {
      const at = entries.findIndex(([k]) => k === m.key);
      if (at >= 0) entries[at] = [m.key, m.value];
      else entries.push([m.key, m.value]);
    } else if (m.op === "delete") {
      const at = entries.findIndex(([k]) => k === m.key);
      if (at >= 0) entries.splice(at, 1);
    } else if (m.op === "duplicate") {
      entries.push([m.key, m.value]);
    } else {
      entries.push(["__proto__", objectText([["polluted", '"yes"']])]);
    }
  }
  return entries;
}

/**
 * A header value the Fetch API accepts (no NUL, CR or LF), hostile otherwise.
 * Mostly ASCII: workerd warns on every non-ASCII value, so a few Latin-1 ones suffice.
 */
export const headerValue: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 6, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }) },
    { weight: 1, arbitrary: fc.constantFrom("", " ", "\t", "ÿÿÿ", "é", "\u00a0", "x".repeat(8_192), "x".repeat(65_536)) },
  )
  .filter(isEchoSafe);

/** Path segments: routes' own words, dot segments, encodings that decode to trouble. */
export const pathSegment: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      "v1",
      "v1",
      "admin",
      "chat",
      "completions",
      "models",
      "limo",
      "limo-v2",
      "GAIR",
      "LIMO",
      "healthz",
      "openapi.json",
      "docs",
      "accounts",
      "keys",
      "rotate",
      "usage",
      "acct_0000000000000000",
      "key_0000000000000000",
      "",
      ".",
      "..",
      "%2e",
      "%2e%2e",
      ".%2e",
      "%2F",
      "%2f..%2f",
      "%5C",
      "\\",
      "%00",
      "%",
      "%zz",
      "%E0%A4%A",
      "%ff",
      "%C0%AE",
      "%u002e",
      "V1",
      "MODELS",
      "~",
      ";",
      ";a=b",
      "*",
      "+",
      "@",
      "é",
      "💥",
    ),
  },
  { weight: 1, arbitrary: hostileString.map((s) => encodeURIComponentLoose(s)) },
  { weight: 1, arbitrary: fc.constantFrom("a".repeat(2_048), "%41".repeat(2_000), "x".repeat(65_536)) },
);

/**
 * A hostile string as one path segment: percent-encoded, or, where it holds a
 * lone surrogate (encodeURIComponent throws), the encoding of one: invalid UTF-8.
 */
export const hostileSegment: fc.Arbitrary<string> = hostileString.map((s) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return "%ED%A0%80";
  }
});

/** encodeURIComponent that tolerates lone surrogates (it throws on them). */
function encodeURIComponentLoose(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, "\ufffd"));
  }
}

export const queryString: fc.Arbitrary<string> = fc.oneof(
  fc.constant(""),
  fc.constantFrom("?", "?limit=1", "?limit=0", "?limit=-1", "?limit=1e999", "?limit=NaN", "?limit=101", "?limit=1&limit=2", "?after=", "?after=%00", "?__proto__[polluted]=yes", "?constructor.prototype.polluted=yes", "?a=" + "b".repeat(10_000), "?%zz=%zz", "#fragment"),
  fc.tuple(hostileString, hostileString).map(([k, v]) => `?${encodeURIComponentLoose(k)}=${encodeURIComponentLoose(v)}`),
);

export const httpMethod: fc.Arbitrary<string> = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "FOO", "get", "post");
