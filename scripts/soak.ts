/**
 * `npm run soak [-- --duration SECONDS] [--concurrency N] [--seed N]`: a
 * bounded loopback soak. Starts its own stack (simulator + `npm run dev` on
 * free ports), creates three accounts with live keys (one tightly limited),
 * runs mixed traffic with random client disconnects and faults injected into
 * the simulator, then a short clean phase, waits for the ledger to settle and
 * reconciles the ledger with what every client received and with the
 * simulator's counters (scripts/soak-reconcile.ts says exactly what is
 * checked). Prints a summary; exits 1 on any discrepancy, 2 on a crash.
 */
import { DISCONNECT_GRACE_MS } from "../shared/generations";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tokenFromDevVars } from "./admin";
import { startDevStack, type DevStack, adminClient } from "../tests/node/dev-stack";
import {
  contentTokens,
  formatTable,
  parseSoakArgs,
  prng,
  reconcile,
  reconcileClean,
  splitSse,
  type ClientOutcome,
  type ClientRecord,
  type Discrepancy,
  type LedgerRecord,
  type SimCounters,
} from "./soak-reconcile";

const ROOT = join(import.meta.dirname, "..");
/** One client request gives up after this long (then it counts as a disconnect). */
const REQUEST_TIMEOUT_MS = 60_000;
/** The dev stack's reconnect grace (shared/generations.ts DISCONNECT_GRACE_MS) plus a margin. */
const GRACE_WAIT_MS = DISCONNECT_GRACE_MS + 2_000;
/** Longest wait for an open circuit breaker to let a probe through (it opens for 30 s). */
const BREAKER_WAIT_MAX_MS = 45_000;
/** Longest wait for the ledger and the simulator to settle. */
const SETTLE_MAX_MS = 120_000;
const MAX_TOKENS_CHOICES = [8, 16, 24, 48, 96] as const;
const CACHED_PROMPTS = ["What is 17 * 23?", "Sum the first ten odd numbers.", "What is 2^10?", "Is 91 prime?", "Solve x + 3 = 10."];
/** The simulator's steady state: paced tokens, so a disconnect lands mid-stream. */
const BASE_SIM = { tokens_per_second: 120, ttft_ms: 20, min_tokens: 100_000 };

const opts = parseSoakArgs(process.argv.slice(2));
const rand = prng(opts.seed);
let stack: DevStack | undefined;
let stopping = false;

async function cleanup(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await stack?.stop().catch(() => {});
  }
  process.exit(code);
}
process.on("SIGINT", () => void cleanup(130));
process.on("SIGTERM", () => void cleanup(143));

const log = (msg: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}`);

interface Account {
  name: string;
  id: string;
  key: string;
}

async function main(): Promise<number> {
  log(`seed ${opts.seed}, duration ${opts.durationSeconds} s, concurrency ${opts.concurrency}; starting the stack`);
  stack = await startDevStack({ WRANGLER_LOG: "warn" });
  const { url, simUrl } = stack;
  const adminToken = process.env.ADMIN_TOKEN ?? tokenFromDevVars(readFileSync(join(ROOT, ".dev.vars"), "utf8"));
  if (!adminToken) throw new Error("no ADMIN_TOKEN (set it or have it in .dev.vars)");
  log(`stack up: API ${url}, simulator ${simUrl}`);

  const admin = adminClient(url, adminToken);
  const simConfig = async (patch: Record<string, unknown>) => {
    const res = await fetch(`${simUrl}/sim/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(patch) });
    if (!res.ok) throw new Error(`sim config ${JSON.stringify(patch)}: ${res.status} ${await res.text()}`);
  };
  const simStats = async (): Promise<SimCounters> => (await (await fetch(`${simUrl}/sim/stats`)).json()) as SimCounters;

  const unlimited = { requests_per_minute: null, tokens_per_minute: null, max_concurrent_requests: null, monthly_token_quota: null };
  const makeAccount = async (name: string, limits: Record<string, number | null>): Promise<Account> => {
    const account = await admin<{ id: string }>("POST", "/accounts", { name: `soak ${name} ${opts.seed}` });
    await admin("PATCH", `/accounts/${account.id}`, { limits });
    const { key } = await admin<{ key: string }>("POST", `/accounts/${account.id}/keys`, { name: "soak" });
    return { name, id: account.id, key };
  };
  const accounts = [
    await makeAccount("alpha", unlimited),
    await makeAccount("beta", unlimited),
    await makeAccount("limited", { ...unlimited, requests_per_minute: 40, max_concurrent_requests: 2 }),
  ];
  await simConfig(BASE_SIM);
  log(`accounts: ${accounts.map((a) => `${a.name}=${a.id}`).join(", ")}`);

  const records: ClientRecord[] = [];
  const pending = new Map<number, { rec: ClientRecord; stage: string }>();
  let seq = 0;

  /** What to send: the request fields a ClientRecord keeps, plus what only the sender needs. */
  interface Spec extends Pick<ClientRecord, "endpoint" | "stream" | "includeUsage" | "n" | "maxTokens" | "temperature" | "idempotencyKey"> {
    account: Account;
    prompt: string;
    /** Streaming: leave after this many content tokens; non-streaming: after this many ms. */
    disconnectAfter?: number;
    phase: "chaos" | "clean";
  }

  const send = async (spec: Spec): Promise<ClientRecord> => {
    const body: Record<string, unknown> = { model: "limo", max_tokens: spec.maxTokens, n: spec.n, temperature: spec.temperature };
    if (spec.endpoint === "chat") body.messages = [{ role: "user", content: spec.prompt }];
    else body.prompt = spec.prompt;
    if (spec.stream) {
      body.stream = true;
      if (spec.includeUsage) body.stream_options = { include_usage: true };
    }
    const rec: ClientRecord = {
      seq: ++seq,
      account: spec.account.name,
      endpoint: spec.endpoint,
      stream: spec.stream,
      includeUsage: spec.includeUsage,
      n: spec.n,
      maxTokens: spec.maxTokens,
      temperature: spec.temperature,
      idempotencyKey: spec.idempotencyKey,
      requestId: null,
      status: null,
      xCache: null,
      outcome: "broken",
      usage: null,
      seen: 0,
      phase: spec.phase,
    };
    records.push(rec);
    pending.set(rec.seq, { rec, stage: "fetch" });
    const abort = new AbortController();
    let leftOnPurpose = false;
    const timeout = setTimeout(() => {
      leftOnPurpose = true;
      abort.abort();
    }, REQUEST_TIMEOUT_MS);
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (!spec.stream && spec.disconnectAfter !== undefined) {
      timer = setTimeout(() => {
        leftOnPurpose = true;
        abort.abort();
      }, spec.disconnectAfter);
    }
    const headers: Record<string, string> = { authorization: `Bearer ${spec.account.key}`, "content-type": "application/json" };
    if (spec.idempotencyKey) headers["idempotency-key"] = spec.idempotencyKey;
    try {
      const res = await fetch(`${url}/v1/${spec.endpoint === "chat" ? "chat/completions" : "completions"}`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: abort.signal,
      });
      pending.get(rec.seq)!.stage = "body";
      rec.requestId = res.headers.get("x-request-id");
      rec.status = res.status;
      rec.xCache = res.headers.get("x-cache");
      const replayed = res.headers.get("idempotent-replayed") === "true";
      if (!res.ok) {
        // The status decides the outcome, even if we leave while its error body arrives.
        rec.outcome = res.status === 429 ? "http_429" : res.status >= 500 ? "http_5xx" : "http_4xx";
        const text = await res.text().catch(() => "{}");
        try {
          rec.errorCode = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? undefined;
        } catch {
          // not JSON
        }
        return rec;
      }
      if (!spec.stream) {
        const json = (await res.json()) as { usage?: ClientRecord["usage"] };
        rec.usage = json.usage ?? null;
        rec.outcome = replayed ? "replayed" : "ok";
        return rec;
      }
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      let done = false;
      let errored = false;
      read: for (;;) {
        const { done: eof, value } = await reader.read();
        if (eof) break;
        buffer += decoder.decode(value, { stream: true });
        const split = splitSse(buffer);
        buffer = split.rest;
        for (const data of split.data) {
          if (data === "[DONE]") {
            done = true;
            continue;
          }
          const chunk = JSON.parse(data) as { error?: { code?: string }; usage?: ClientRecord["usage"] };
          if (chunk.error) {
            errored = true;
            rec.errorCode = chunk.error.code;
            continue;
          }
          if (chunk.usage) rec.usage = { prompt_tokens: chunk.usage.prompt_tokens, completion_tokens: chunk.usage.completion_tokens };
          rec.seen += contentTokens(chunk);
          if (spec.disconnectAfter !== undefined && !done && rec.seen >= spec.disconnectAfter) {
            leftOnPurpose = true;
            abort.abort();
            await reader.cancel().catch(() => {});
            break read;
          }
        }
      }
      if (leftOnPurpose) rec.outcome = "disconnected";
      else if (errored) rec.outcome = "stream_error";
      else if (done) rec.outcome = replayed ? "replayed" : "ok";
      else rec.outcome = "broken";
      return rec;
    } catch {
      rec.outcome = leftOnPurpose ? (rec.requestId ? "disconnected" : "disconnected_early") : "broken";
      return rec;
    } finally {
      pending.delete(rec.seq);
      clearTimeout(timeout);
      if (timer) clearTimeout(timer);
    }
  };

  const randomSpec = (phase: "chaos" | "clean"): Spec => {
    const r = rand.next();
    const account = phase === "clean" ? accounts[0]! : r < 0.45 ? accounts[0]! : r < 0.75 ? accounts[1]! : accounts[2]!;
    const endpoint = rand.chance(0.65) ? "chat" : "completions";
    const stream = rand.chance(0.6);
    const includeUsage = stream && rand.chance(0.5);
    const cacheable = phase === "chaos" && rand.chance(0.3);
    const spec: Spec = {
      account,
      endpoint,
      stream,
      includeUsage,
      n: cacheable ? 1 : rand.int(1, 3),
      maxTokens: cacheable ? 24 : rand.pick(MAX_TOKENS_CHOICES),
      temperature: cacheable ? 0 : 0.7,
      prompt: cacheable ? rand.pick(CACHED_PROMPTS) : `Problem ${rand.int(1, 1e9)}: what is ${rand.int(2, 99)} * ${rand.int(2, 99)}?`,
      phase,
    };
    if (phase === "chaos" && rand.chance(0.2)) {
      spec.disconnectAfter = stream ? rand.int(0, Math.max(1, spec.n * spec.maxTokens - 1)) : rand.int(5, 400);
    }
    return spec;
  };

  // ---- The fault injector: a fault for a few seconds, then a clean spell, in a seeded order. ----
  const faults: { name: string; patch: Record<string, unknown>; ms: number }[] = [
    { name: "error_after_tokens", patch: { error_after_tokens: 0 }, ms: 3000 },
    { name: "drop_after_tokens", patch: { drop_after_tokens: 0 }, ms: 3000 },
    { name: "fail_status 503", patch: { fail_status: 503 }, ms: 1500 },
    { name: "fail_status 500", patch: { fail_status: 500 }, ms: 1200 },
    { name: "cold_start", patch: { cold_start_ms: 1500 }, ms: 2500 },
  ];
  const CLEAR = { error_after_tokens: null, drop_after_tokens: null, fail_status: null, cold_start_ms: 0 };
  const faultLog: Record<string, number> = {};
  const deadline = Date.now() + opts.durationSeconds * 1000;
  const injector = (async () => {
    while (Date.now() < deadline - 4000) {
      await sleep(rand.int(2000, 5000));
      if (Date.now() >= deadline - 4000) break;
      const fault = rand.pick(faults);
      const patch = { ...fault.patch };
      if ("error_after_tokens" in patch) patch.error_after_tokens = rand.int(3, 60);
      if ("drop_after_tokens" in patch) patch.drop_after_tokens = rand.int(3, 60);
      faultLog[fault.name] = (faultLog[fault.name] ?? 0) + 1;
      await simConfig(patch);
      await sleep(fault.ms);
      await simConfig(CLEAR);
    }
    await simConfig(CLEAR);
  })();

  // ---- The traffic: `concurrency` loops until the deadline. ----
  let idemCounter = 0;
  const worker = async () => {
    while (Date.now() < deadline) {
      const spec = randomSpec("chaos");
      if (rand.chance(0.12)) {
        // Idempotency: the same request again, after the first ended or while it runs.
        const { disconnectAfter: _, ...plain } = spec;
        const again: Spec = { ...plain, idempotencyKey: `soak-${opts.seed}-${++idemCounter}` };
        if (rand.chance(0.3)) {
          await Promise.all([send(again), sleep(rand.int(5, 60)).then(() => send(again))]);
        } else {
          await send(again);
          await send(again);
        }
      } else if (((await send(spec)).status ?? 0) >= 429) {
        await sleep(rand.int(100, 400)); // 429/5xx: back off as a client honouring Retry-After would, roughly: keeps the loop from spinning
      }
    }
  };
  const progress = setInterval(() => {
    log(`${records.length} requests so far, ${pending.size} open`);
    if (Date.now() > deadline) for (const p of [...pending.values()].slice(0, 5)) log(`  open: ${p.stage} ${JSON.stringify(p.rec)}`);
  }, 15_000);
  // Bounded: every request gives up after REQUEST_TIMEOUT_MS; should one still hang, stop waiting and say so.
  const hardStop = sleep(opts.durationSeconds * 1000 + REQUEST_TIMEOUT_MS + 30_000).then(() => "timeout" as const);
  const chaosEnd = await Promise.race([Promise.all([...Array.from({ length: opts.concurrency }, worker), injector]), hardStop]);
  clearInterval(progress);
  const hung = chaosEnd === "timeout" ? [...pending.values()].map((p) => `#${p.rec.seq} ${p.rec.requestId ?? "(no id)"} stuck in ${p.stage}`) : [];
  if (hung.length > 0) log(`client requests that never ended: ${hung.join("; ")}`);
  log(`chaos phase done: ${records.length} requests; faults injected: ${JSON.stringify(faultLog)}`);

  // ---- Settle, then a clean phase whose identity is exact. ----
  const ledgerOf = async (account: Account): Promise<{ records: LedgerRecord[]; total: number }> => {
    const out: LedgerRecord[] = [];
    let after: string | undefined;
    let total = 0;
    for (let page = 0; page < 1000; page++) {
      const q = new URLSearchParams({ limit: "1000", from: "0" });
      if (after) q.set("after", after);
      const list = await admin<{ data: LedgerRecord[]; has_more: boolean; next_cursor?: string; totals: { requests: number } }>(
        "GET",
        `/accounts/${account.id}/usage?${q}`,
      );
      out.push(...list.data);
      total = list.totals.requests;
      if (!list.has_more || !list.next_cursor) break;
      after = list.next_cursor;
    }
    return { records: out, total };
  };
  const allLedger = async () => (await Promise.all(accounts.map(ledgerOf))).flatMap((l) => l.records);
  const settle = async (minWaitMs: number): Promise<{ stable: boolean; waitedMs: number }> => {
    const started = Date.now();
    await sleep(minWaitMs);
    let last = "";
    let sameFor = 0;
    while (Date.now() - started < SETTLE_MAX_MS) {
      const [stats, totals] = await Promise.all([simStats(), Promise.all(accounts.map(async (a) => (await ledgerOf(a)).total))]);
      const fingerprint = `${totals.join(",")}|${stats.tokens_generated_total}|${stats.in_flight}`;
      sameFor = fingerprint === last && stats.in_flight === 0 ? sameFor + 1 : 0;
      last = fingerprint;
      if (sameFor >= 2) return { stable: true, waitedMs: Date.now() - started };
      await sleep(1500);
    }
    return { stable: false, waitedMs: Date.now() - started };
  };
  const settled = await settle(GRACE_WAIT_MS);
  log(`ledger ${settled.stable ? "settled" : "did NOT settle"} after ${(settled.waitedMs / 1000).toFixed(1)} s`);
  const chaosSim = await simStats();
  const chaosLedger = await allLedger();
  // The chaos phase's 503s may have opened the backend's circuit breaker (30 s, then a probe):
  // the clean phase starts once no breaker is open, or it would measure the breaker, not the ledger.
  const breakerDeadline = Date.now() + BREAKER_WAIT_MAX_MS;
  for (;;) {
    const { data } = await admin<{ data: { breaker: { state: string } }[] }>("GET", "/backends");
    if (data.every((b) => b.breaker.state !== "open") || Date.now() > breakerDeadline) break;
    await sleep(1000);
  }

  const cleanRecords: ClientRecord[] = [];
  const cleanCount = Math.max(12, opts.concurrency * 2);
  // One request alone first: if the chaos left the breaker half-open, it is the probe that closes it.
  cleanRecords.push(await send(randomSpec("clean")));
  await Promise.all(
    Array.from({ length: Math.min(opts.concurrency, 8) }, async () => {
      while (cleanRecords.length < cleanCount) {
        const rec = send(randomSpec("clean"));
        cleanRecords.push(await rec);
      }
    }),
  );
  const cleanSettled = await settle(1000);
  const finalSim = await simStats();
  const finalLedger = await allLedger();
  log(`clean phase: ${cleanRecords.length} requests; settled ${cleanSettled.stable}`);

  // ---- Reconcile. ----
  const chaosRecords = records.filter((r) => r.phase === "chaos");
  const maxPerRequest = 3 * Math.max(...MAX_TOKENS_CHOICES);
  const result = reconcile(chaosRecords, chaosLedger, chaosSim, maxPerRequest, opts.disconnectSlack);
  const discrepancies: Discrepancy[] = [...result.discrepancies, ...reconcileClean(cleanRecords, finalLedger, chaosSim, finalSim)];
  if (!settled.stable || !cleanSettled.stable) discrepancies.push({ check: "d", message: "the ledger or the simulator did not settle in time" });
  for (const h of hung) discrepancies.push({ check: "d", message: `client request never ended: ${h}` });
  if (finalSim.in_flight !== 0) discrepancies.push({ check: "d", message: `simulator in_flight ${finalSim.in_flight} at the end` });
  const extra = finalLedger.length - chaosLedger.length - cleanRecords.length;
  if (extra !== 0) discrepancies.push({ check: "a", message: `${extra} ledger record(s) appeared after the chaos phase settled beyond the clean phase's` });

  // ---- Report. ----
  console.log("\n=== soak summary ===");
  console.log(`disconnect slack ${opts.disconnectSlack}, seed ${opts.seed}, duration ${opts.durationSeconds} s, concurrency ${opts.concurrency}, ${records.length} requests (${chaosRecords.length} chaos + ${cleanRecords.length} clean)`);
  console.log(`faults injected: ${JSON.stringify(faultLog)}\n`);
  console.log(formatTable(["client outcome", "requests"], Object.entries(result.byOutcome).sort().map(([k, v]) => [k, v])));
  const cleanOk = cleanRecords.filter((r) => r.outcome === "ok").length;
  console.log(`clean:ok (all phases)  ${cleanOk}/${cleanRecords.length}`);
  console.log(`\nx-cache (chaos): ${JSON.stringify(result.byCache)}`);
  const by429 = chaosRecords.filter((r) => r.status === 429).length;
  const byIdem = chaosRecords.filter((r) => r.idempotencyKey);
  console.log(`429s: ${by429}; idempotent requests: ${byIdem.length} (replayed ${byIdem.filter((r) => r.outcome === "replayed").length}, 409 ${byIdem.filter((r) => r.status === 409).length})`);
  const over = result.disconnectOvershoot;
  console.log(`disconnected streams: ${over.length}; ledger - seen tokens per choice: max ${Math.max(0, ...over)}, median ${over.sort((a, b) => a - b)[Math.floor(over.length / 2)] ?? 0} (allowed 1 + slack ${opts.disconnectSlack})`);
  console.log(`\nledger (chaos): ${result.ledger.records} records ${JSON.stringify(result.ledger.byStatus)}, cached ${result.ledger.cached}, ids no client saw ${result.ledger.unmatched}`);
  console.log(`ledger tokens (chaos): prompt ${result.ledger.promptTokens}, completion ${result.ledger.completionTokens}`);
  const id = result.identity;
  console.log(
    formatTable(
      ["identity (chaos)", "value"],
      [
        ["sim tokens_generated_total (S)", id.simTokens],
        ["ledger completion, ok & uncached (O)", id.okUncachedCompletion],
        ["R = S - O (tokens of non-ok generations)", id.remainder],
        ["  lower bound L (their billed tokens)", id.lowerBound],
        ["  upper bound U (sum n x max_tokens)", id.upperBound],
        ["ok uncached records / sim completed", `${id.okUncachedRecords} / ${id.simCompleted}`],
        ["uncached non-ok records", id.notOkUncachedRecords],
        ["sim aborted / errored / requests", `${chaosSim.aborted_total} / ${chaosSim.errored_total} / ${chaosSim.requests_total}`],
      ],
    ),
  );
  const dTok = finalSim.tokens_generated_total - chaosSim.tokens_generated_total;
  const cleanIds = new Set(cleanRecords.map((r) => r.requestId));
  const cleanBilled = finalLedger.filter((r) => cleanIds.has(r.request_id)).reduce((a, r) => a + r.completion_tokens, 0);
  console.log(`\nclean phase (exact): sim tokens +${dTok}, ledger completion ${cleanBilled}, sim completed +${finalSim.completed_total - chaosSim.completed_total}`);
  console.log(`simulator in_flight at the end: ${finalSim.in_flight}`);
  if (discrepancies.length === 0) {
    console.log("\nRESULT: reconciled, no discrepancies");
    return 0;
  }
  console.log(`\nRESULT: ${discrepancies.length} discrepanc${discrepancies.length === 1 ? "y" : "ies"}`);
  const byCheck: Record<string, number> = {};
  for (const d of discrepancies) byCheck[d.check] = (byCheck[d.check] ?? 0) + 1;
  console.log(formatTable(["check", "count"], Object.entries(byCheck)));
  for (const d of discrepancies.slice(0, 40)) console.log(`  (${d.check}) ${d.message}`);
  if (discrepancies.length > 40) console.log(`  ... and ${discrepancies.length - 40} more`);
  return 1;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

main()
  .then((code) => cleanup(code))
  .catch(async (err) => {
    console.error(`soak failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    if (stack) console.error(`--- stack log (tail) ---\n${stack.log().slice(-4000)}`);
    await cleanup(2);
  });
