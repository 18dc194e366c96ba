/**
 * @module soak-reconcile
 * The pure half of `npm run soak`: its options, its random numbers, what a
 * client observed, and the reconciliation of those observations with the
 * usage ledger and the simulator's counters. No I/O: unit-tested in
 * tests/node/soak-reconcile.test.ts.
 */

/**
 * Tokens per choice a disconnected client may be billed beyond what it read:
 * what was sent to it but still in transit (generation object, Worker, the dev
 * proxy, socket buffers) when it left. Billing follows what was sent.
 */
export const DEFAULT_DISCONNECT_SLACK = 20;

export interface SoakOptions {
  durationSeconds: number;
  concurrency: number;
  seed: number;
  /** Extra tokens per choice a disconnected stream may be billed beyond what it saw (+1 is always allowed). */
  disconnectSlack: number;
}

export function parseSoakArgs(argv: readonly string[]): SoakOptions {
  const options: SoakOptions = { durationSeconds: 120, concurrency: 12, seed: Date.now() % 1_000_000, disconnectSlack: DEFAULT_DISCONNECT_SLACK };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n) || n < 0) throw new Error(`${name} needs a whole number, got ${v}`);
      return n;
    };
    if (name === "--duration") options.durationSeconds = value();
    else if (name === "--concurrency") options.concurrency = value();
    else if (name === "--seed") options.seed = value();
    else if (name === "--disconnect-slack") options.disconnectSlack = value();
    else throw new Error(`unknown option ${arg} (options: --duration SECONDS, --concurrency N, --seed N, --disconnect-slack N)`);
  }
  if (options.durationSeconds < 1 || options.durationSeconds > 3600) throw new Error("--duration must be 1 to 3600 seconds");
  if (options.concurrency < 1 || options.concurrency > 200) throw new Error("--concurrency must be 1 to 200");
  return options;
}

/** mulberry32: a small seeded PRNG, so a run's traffic can be replayed with --seed. */
export function prng(seed: number): { next(): number; int(lo: number, hi: number): number; pick<T>(items: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

/** How a client request ended, from the client's side. */
export type ClientOutcome =
  | "ok" // a 2xx with the whole answer ([DONE] or the JSON)
  | "replayed" // a 2xx marked idempotent-replayed: true
  | "stream_error" // a 2xx stream that carried an error event
  | "disconnected" // we went away after the response headers
  | "disconnected_early" // we went away before any headers (no x-request-id seen)
  | "broken" // the connection broke under us (not our abort)
  | "http_429"
  | "http_4xx"
  | "http_5xx";

export interface ClientRecord {
  seq: number;
  account: string;
  endpoint: "chat" | "completions";
  stream: boolean;
  includeUsage: boolean;
  n: number;
  maxTokens: number;
  temperature: number;
  idempotencyKey?: string;
  requestId: string | null;
  status: number | null;
  xCache: string | null;
  outcome: ClientOutcome;
  /** Usage the client was given (JSON body or the usage chunk). */
  usage: { prompt_tokens: number; completion_tokens: number } | null;
  /** Content tokens seen (non-empty content deltas / texts). */
  seen: number;
  /** Whether the chunks were replays of whole texts (idempotent replay): `seen` is then not a token count. */
  phase: "chaos" | "clean";
  errorCode?: string;
}

/** The part of a ledger record reconciliation uses (shared/usage.ts UsageRecord). */
export interface LedgerRecord {
  request_id: string;
  account_id: string;
  prompt_tokens: number;
  completion_tokens: number;
  cached: boolean;
  status: string;
}

export interface SimCounters {
  requests_total: number;
  completed_total: number;
  aborted_total: number;
  errored_total: number;
  tokens_generated_total: number;
  prompt_tokens_total: number;
  in_flight: number;
}

export interface Discrepancy {
  check: "a" | "b" | "c" | "d";
  message: string;
}

export interface Reconciliation {
  discrepancies: Discrepancy[];
  /** Figures for the summary. */
  byOutcome: Record<string, number>;
  byCache: Record<string, number>;
  ledger: { records: number; byStatus: Record<string, number>; cached: number; unmatched: number; completionTokens: number; promptTokens: number };
  /** For each disconnected streaming MISS/COALESCED request: (ledger completion - seen) / n. */
  disconnectOvershoot: number[];
  identity: {
    simTokens: number;
    okUncachedCompletion: number;
    remainder: number;
    lowerBound: number;
    upperBound: number;
    okUncachedRecords: number;
    simCompleted: number;
    notOkUncachedRecords: number;
  };
}

/** The statuses that mean a request was admitted (so it must have exactly one record). */
function admitted(r: ClientRecord): boolean {
  return r.outcome === "ok" || r.outcome === "stream_error" || r.outcome === "http_5xx" || r.outcome === "disconnected";
}

/**
 * Reconciles the clients' records with the ledger and the simulator (chaos
 * and clean phases together; the clean phase's exact check is separate:
 * reconcileClean).
 *
 * (a) every admitted request (2xx not replayed, 5xx, stream error, a
 *     disconnect after headers) has exactly one record under its
 *     x-request-id; a 4xx/429 or an idempotent replay has none; a record
 *     nobody saw the id of must be explained by a client that left (or was
 *     cut off) before the headers: at most that many, never `ok`-and-uncached
 *     without one.
 * (b) ok: the record's prompt/completion tokens equal the usage the client got
 *     (or, without a usage chunk, completion equals the tokens it saw);
 *     stream error: completion equals the tokens seen (the relay's count of
 *     delivered tokens), prompt 0; 5xx: completion 0; disconnected streaming
 *     client: seen <= completion <= seen + n (one token per choice may be in
 *     flight; `--disconnect-slack k` allows k more per choice; a HIT, replayed
 *     from memory in one burst, up to the whole answer); disconnected non-streaming client: completion 0 (nothing short
 *     of the whole answer is given), unless the gateway had finished (ok).
 *     x-cache MISS <=> cached false.
 * (c) over uncached records (the ones that caused a generation):
 *     S = sim tokens_generated_total, O = sum of completion over `ok` uncached
 *     records. Every `ok` uncached record bills the backend's usage, i.e. all
 *     of its generation's tokens, so R = S - O is the tokens of generations
 *     whose request did not end ok (abandoned, failed, cancelled). Exact R is
 *     not observable (an abandoned generation runs on, unseen, until it ends
 *     or its grace period does), so check L <= R <= U with L = the completion
 *     those records billed (never more than was produced) and U = sum of
 *     n x max_tokens over them (no generation exceeds it). Also the counts:
 *     #ok uncached <= sim completed <= #uncached records.
 * (d) the simulator's in_flight is 0.
 */
export function reconcile(
  clients: readonly ClientRecord[],
  ledger: readonly LedgerRecord[],
  sim: SimCounters,
  maxPerRequest: number,
  disconnectSlack = 0,
): Reconciliation {
  const disconnectOvershoot: number[] = [];
  const discrepancies: Discrepancy[] = [];
  const fail = (check: Discrepancy["check"], message: string) => discrepancies.push({ check, message });
  const byId = new Map<string, LedgerRecord[]>();
  for (const rec of ledger) {
    const list = byId.get(rec.request_id) ?? [];
    list.push(rec);
    byId.set(rec.request_id, list);
  }
  const byOutcome: Record<string, number> = {};
  const byCache: Record<string, number> = {};
  const clientById = new Map<string, ClientRecord>();
  let noIdMaybeAdmitted = 0;
  for (const c of clients) {
    byOutcome[`${c.phase}:${c.outcome}`] = (byOutcome[`${c.phase}:${c.outcome}`] ?? 0) + 1;
    if (c.xCache) byCache[c.xCache] = (byCache[c.xCache] ?? 0) + 1;
    if (c.requestId === null) {
      if (c.outcome === "disconnected_early" || c.outcome === "broken") noIdMaybeAdmitted++;
      continue;
    }
    if (clientById.has(c.requestId)) fail("a", `x-request-id ${c.requestId} was given to two requests`);
    clientById.set(c.requestId, c);
    const recs = byId.get(c.requestId) ?? [];
    const tag = `#${c.seq} ${c.requestId} (${c.outcome}${c.status ? ` ${c.status}` : ""}, ${c.endpoint}${c.stream ? " stream" : ""}${c.includeUsage ? "+usage" : ""} n=${c.n} max=${c.maxTokens}, x-cache ${c.xCache ?? "-"})`;
    if (!admitted(c)) {
      if (recs.length > 0) fail("a", `${tag}: not admitted but has ${recs.length} ledger record(s)`);
      continue;
    }
    if (recs.length !== 1) {
      fail("a", `${tag}: ${recs.length} ledger records, expected exactly 1`);
      continue;
    }
    const rec = recs[0]!;
    const ledgerTag = `ledger ${rec.status} prompt=${rec.prompt_tokens} completion=${rec.completion_tokens} cached=${rec.cached}`;
    if (c.xCache !== null && (c.xCache !== "MISS") !== rec.cached) fail("b", `${tag}: ${ledgerTag} disagrees with x-cache`);
    switch (c.outcome) {
      case "ok":
        if (rec.status !== "ok") fail("b", `${tag}: the client got the whole answer but ${ledgerTag}`);
        else if (c.usage) {
          if (rec.completion_tokens !== c.usage.completion_tokens || rec.prompt_tokens !== c.usage.prompt_tokens)
            fail("b", `${tag}: client usage prompt=${c.usage.prompt_tokens} completion=${c.usage.completion_tokens}, ${ledgerTag}`);
        } else if (rec.completion_tokens !== c.seen) fail("b", `${tag}: client saw ${c.seen} tokens, ${ledgerTag}`);
        break;
      case "stream_error":
        if (rec.status === "ok" || rec.status === "client_disconnected") fail("b", `${tag}: the stream failed but ${ledgerTag}`);
        else if (rec.completion_tokens !== c.seen) fail("b", `${tag}: client saw ${c.seen} tokens before the error, ${ledgerTag}`);
        break;
      case "http_5xx":
        if (rec.status === "ok") fail("b", `${tag}: answered ${c.status} but ${ledgerTag}`);
        else if (rec.completion_tokens !== 0) fail("b", `${tag}: answered ${c.status} (no tokens given) but ${ledgerTag}`);
        break;
      case "disconnected":
        if (c.stream) {
          // A HIT replays a finished answer from memory in one burst: all of it is written before any
          // disconnect can be noticed, so it may be billed up to the whole answer.
          const hi = c.xCache === "HIT" ? c.n * c.maxTokens : c.seen + c.n * (1 + disconnectSlack);
          if (c.xCache !== "HIT") disconnectOvershoot.push((rec.completion_tokens - c.seen) / c.n);
          if (rec.completion_tokens < c.seen || rec.completion_tokens > hi)
            fail("b", `${tag}: left after seeing ${c.seen} tokens, ${ledgerTag} (allowed ${c.seen}..${hi})`);
        } else if (rec.status !== "ok" && rec.completion_tokens !== 0) fail("b", `${tag}: non-streaming client left, ${ledgerTag}`);
        break;
      default:
        break;
    }
  }
  // Records whose id no client saw: only requests that left (or were cut off) before the headers may explain them.
  const unmatched = ledger.filter((r) => !clientById.has(r.request_id));
  if (unmatched.length > noIdMaybeAdmitted)
    fail("a", `${unmatched.length} ledger records have an id no client saw, but only ${noIdMaybeAdmitted} requests ended before their headers`);
  for (const r of unmatched) {
    if (r.status === "ok" && !r.cached) {
      // Legitimate only for a non-streaming request whose answer was ready as the client left; counted, not failed.
    }
  }

  // (c)
  const uncached = ledger.filter((r) => !r.cached);
  const okUncached = uncached.filter((r) => r.status === "ok");
  const notOk = uncached.filter((r) => r.status !== "ok");
  const O = sum(okUncached.map((r) => r.completion_tokens));
  const L = sum(notOk.map((r) => r.completion_tokens));
  const U = sum(notOk.map((r) => {
    const c = clientById.get(r.request_id);
    return c ? c.n * c.maxTokens : maxPerRequest;
  }));
  const R = sim.tokens_generated_total - O;
  if (R < L || R > U)
    fail("c", `sim tokens ${sim.tokens_generated_total} - ok uncached ledger completion ${O} = ${R}, outside [${L}, ${U}] (billed..possible tokens of the ${notOk.length} uncached non-ok requests)`);
  if (sim.completed_total < okUncached.length || sim.completed_total > uncached.length)
    fail("c", `sim completed ${sim.completed_total} generations; ledger has ${okUncached.length} ok uncached of ${uncached.length} uncached records`);
  // (d)
  if (sim.in_flight !== 0) fail("d", `the simulator still has ${sim.in_flight} generation(s) in flight`);

  const byStatus: Record<string, number> = {};
  for (const r of ledger) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  return {
    discrepancies,
    disconnectOvershoot,
    byOutcome,
    byCache,
    ledger: {
      records: ledger.length,
      byStatus,
      cached: ledger.filter((r) => r.cached).length,
      unmatched: unmatched.length,
      completionTokens: sum(ledger.map((r) => r.completion_tokens)),
      promptTokens: sum(ledger.map((r) => r.prompt_tokens)),
    },
    identity: {
      simTokens: sim.tokens_generated_total,
      okUncachedCompletion: O,
      remainder: R,
      lowerBound: L,
      upperBound: U,
      okUncachedRecords: okUncached.length,
      simCompleted: sim.completed_total,
      notOkUncachedRecords: notOk.length,
    },
  };
}

/**
 * The clean phase (no faults, no disconnects, no cache, no idempotency): each
 * request caused one generation that ran to its end, so the identity is exact:
 * delta sim tokens = sum of the phase's ledger completion tokens, delta sim
 * prompt tokens = sum of their prompt tokens, delta completed = #requests,
 * delta aborted = delta errored = 0.
 */
export function reconcileClean(clients: readonly ClientRecord[], ledger: readonly LedgerRecord[], before: SimCounters, after: SimCounters): Discrepancy[] {
  const out: Discrepancy[] = [];
  const ids = new Set(clients.map((c) => c.requestId).filter((id): id is string => id !== null));
  const recs = ledger.filter((r) => ids.has(r.request_id));
  const notOk = clients.filter((c) => c.outcome !== "ok");
  if (notOk.length > 0) out.push({ check: "c", message: `clean phase: ${notOk.length} request(s) did not end ok (${notOk.map((c) => `${c.outcome} ${c.status ?? ""}`).join(", ")})` });
  const dTokens = after.tokens_generated_total - before.tokens_generated_total;
  const dPrompt = after.prompt_tokens_total - before.prompt_tokens_total;
  const dCompleted = after.completed_total - before.completed_total;
  const completion = sum(recs.map((r) => r.completion_tokens));
  const prompt = sum(recs.map((r) => r.prompt_tokens));
  if (dTokens !== completion) out.push({ check: "c", message: `clean phase: sim generated ${dTokens} tokens, ledger billed ${completion} completion tokens` });
  if (dPrompt !== prompt) out.push({ check: "c", message: `clean phase: sim prompt tokens ${dPrompt}, ledger prompt tokens ${prompt}` });
  if (dCompleted !== recs.length || recs.length !== clients.length)
    out.push({ check: "c", message: `clean phase: ${clients.length} requests, ${recs.length} ledger records, sim completed ${dCompleted}` });
  const dAborted = after.aborted_total - before.aborted_total;
  const dErrored = after.errored_total - before.errored_total;
  if (dAborted !== 0 || dErrored !== 0) out.push({ check: "c", message: `clean phase: sim aborted ${dAborted}, errored ${dErrored} (expected 0)` });
  return out;
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Counts content tokens in one parsed SSE chunk: one per non-empty delta (chat) or text (completions). */
export function contentTokens(chunk: unknown): number {
  const choices = (chunk as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) return 0;
  let n = 0;
  for (const choice of choices as { delta?: { content?: unknown }; text?: unknown }[]) {
    const text = choice.delta?.content ?? choice.text;
    if (typeof text === "string" && text.length > 0) n++;
  }
  return n;
}

/** Splits SSE text into complete events' data payloads; returns the unfinished rest. */
export function splitSse(buffer: string): { data: string[]; rest: string } {
  const data: string[] = [];
  const normalized = buffer.replace(/\r\n/g, "\n");
  const parts = normalized.split("\n\n");
  const rest = parts.pop() ?? "";
  for (const part of parts) {
    const lines = part.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, ""));
    if (lines.length > 0) data.push(lines.join("\n"));
  }
  return { data, rest };
}

export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? "").length)));
  const line = (r: readonly (string | number)[]) => r.map((c, i) => String(c).padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
