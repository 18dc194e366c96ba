/**
 * `npm run eval` end to end against a running stack (`--base-url`), as an
 * operator runs it: the simulator's oracle at two accuracies (the report's
 * accuracy must equal the simulator's own count exactly, and its cost the
 * ledger's), a run interrupted with Ctrl-C and resumed (no sample asked
 * twice, one ledger record per problem and sample), and a run against a
 * rate-limited account (it finishes, every wait as long as Retry-After
 * said). Each account is new, with a live key, so its ledger is the run's.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account, CreatedApiKey, Limits } from "../../shared/admin";
import { adminClient, devAdminToken, startDevStack, type AdminCall, type DevStack } from "./dev-stack";
import { ledgerOf, progressLines, readReport, readRows, runEvalCli, startEval } from "./eval-cli";

let stack: DevStack;
let admin: AdminCall;
let work: string;

const UNLIMITED: Limits = { requests_per_minute: null, tokens_per_minute: null, max_concurrent_requests: null, monthly_token_quota: null };

async function accountKey(name: string, limits: Partial<Limits> = UNLIMITED): Promise<{ account: Account; key: string }> {
  const account = await admin<Account>("POST", "/accounts", { name });
  await admin("PATCH", `/accounts/${account.id}`, { limits: { ...UNLIMITED, ...limits } });
  const { key } = await admin<CreatedApiKey>("POST", `/accounts/${account.id}/keys`, { name: "eval" });
  return { account, key };
}

async function sim(path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${stack.simUrl}${path}`, {
    method: body === undefined && path === "/sim/stats" ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  stack = await startDevStack();
  const token = devAdminToken();
  admin = adminClient(stack.url, token);
  work = mkdtempSync(join(tmpdir(), "limo-eval-"));
});

afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("npm run eval against the API with the simulator's oracle", () => {
  for (const [accuracy, dataset, limit] of [[0.9, "math500", 60], [0.5, "math500", 40]] as const) {
    it(`reports exactly the simulator's count at oracle accuracy ${accuracy} (${dataset}, ${limit} problems), and the ledger's cost`, async () => {
      await sim("/sim/reset", {});
      await sim("/sim/config", { oracle: { accuracy, seed: 7 } });
      const { account, key } = await accountKey(`eval oracle ${accuracy}`);
      const out = join(work, `oracle-${accuracy}`);
      const run = await runEvalCli(["--dataset", dataset, "--limit", String(limit), "--base-url", stack.url, "--api-key", key, "--out", out, "--concurrency", "6"]);
      expect(run.code, run.stderr).toBe(0);

      const stats = await sim("/sim/stats");
      const simCorrect = stats.oracle_correct as number;
      const simWrong = stats.oracle_wrong as number;
      expect(simCorrect + simWrong).toBe(limit);
      const report = readReport(out);
      expect(report.counts).toMatchObject({ problems_scored: limit, samples_error: 0, undecided: 0 });
      expect(report.accuracy.correct).toBe(simCorrect);
      expect(report.accuracy.value).toBe(simCorrect / (simCorrect + simWrong));
      expect(report.accuracy.interval.low).toBeLessThan(report.accuracy.value);
      expect(report.settings.served_models).toEqual(["GAIR/LIMO"]);
      expect(report.settings.api).toMatchObject({ title: "LIMO Reasoning API", ours: true });
      expect(report.published).toMatchObject({ model: "limo", percent: 94.8 });
      expect(report.by_level.reduce((n, g) => n + g.of, 0)).toBe(limit);
      expect(report.by_subject.reduce((n, g) => n + g.correct, 0)).toBe(simCorrect);

      // One ledger record per problem, and the rows' costs add up to the bill.
      const rows = readRows(out);
      const ledger = await ledgerOf(admin, account.id, limit);
      expect(ledger.records).toHaveLength(limit);
      expect(new Set(ledger.records.map((r) => r.request_id))).toEqual(new Set(rows.map((r) => r.request_id)));
      expect(ledger.records.every((r) => r.status === "ok" && !r.cached)).toBe(true);
      expect(rows.reduce((sum, r) => sum + r.cost_micro_usd!, 0)).toBe(ledger.costMicroUsd);
      expect(ledger.costMicroUsd).toBeGreaterThan(0);

      // What a person reads: progress sentences that count up to the end, then the table.
      const lines = progressLines(run.stderr);
      expect(lines.at(-1)).toMatchObject({ done: limit, total: limit });
      expect(lines.map((l) => l.done)).toEqual([...lines.map((l) => l.done)].sort((a, b) => a - b));
      expect(lines.length).toBeGreaterThanOrEqual(10);
      for (const { line } of lines.slice(1)) expect(line).toMatch(/accuracy so far \d+\.\d% \(\d+\/\d+\), \d+ tokens\/s, cost \$\d+\.\d{6}, ETA \w+/);
      expect(lines.at(-1)!.line).toContain(`accuracy so far ${((simCorrect / limit) * 100).toFixed(1)}% (${simCorrect}/${limit})`);
      expect(run.stdout).toMatch(new RegExp(`accuracy\\s+${((simCorrect / limit) * 100).toFixed(1)}% \\[`));
      expect(run.stdout).toMatch(/LIMO published \(limo\)\s+94\.8%\s+ours [+-]\d/);
      expect(run.stdout).toContain(`Report: ${out}/report.md`);
      const markdown = readFileSync(join(out, "report.md"), "utf8");
      expect(markdown).toContain("| accuracy |");
      expect(markdown).toContain("## By level");
      expect(readFileSync(join(out, "accuracy-by-level.svg"), "utf8")).toMatch(/^<svg /);
    });
  }
});

describe("an interrupted run, resumed", () => {
  it("stops on Ctrl-C with a valid results.jsonl, and the resume asks only for what is missing: one ledger record per problem", async () => {
    await sim("/sim/reset", {});
    // Paced answers, so the interruption lands mid-run.
    await sim("/sim/config", { tokens_per_second: 800, min_tokens: 200 });
    const { account, key } = await accountKey("eval resume");
    const out = join(work, "resume");
    const limit = 16;
    const args = ["--dataset", "aime24", "--limit", String(limit), "--base-url", stack.url, "--api-key", key, "--out", out, "--concurrency", "2"];
    const first = startEval(args);
    await waitFor(() => readLines(join(out, "results.jsonl")) >= 3);
    first.child.kill("SIGINT");
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain("stopping: no new requests; waiting for those in flight");
    expect(stopped.stdout).toContain(`--out ${out} --resume`);
    const before = readRows(out);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.length).toBeLessThan(limit);
    expect(before.every((r) => r.status === "ok")).toBe(true);
    expect(readReport(out)).toMatchObject({ status: "interrupted", counts: { problems_scored: before.length } });

    const resumed = await runEvalCli([...args, "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming: ${before.length} of ${limit} samples already done`);
    const rows = readRows(out);
    expect(rows).toHaveLength(limit);
    expect(new Set(rows.map((r) => r.problem_id)).size).toBe(limit);
    expect(rows.slice(0, before.length)).toEqual(before);
    expect(readReport(out)).toMatchObject({ status: "complete", counts: { problems_scored: limit } });

    const stats = await sim("/sim/stats");
    expect(stats.completed_total).toBe(limit);
    expect(stats.aborted_total).toBe(0);
    const ledger = await ledgerOf(admin, account.id, limit);
    expect(ledger.records).toHaveLength(limit);
    expect(new Set(ledger.records.map((r) => r.request_id))).toEqual(new Set(rows.map((r) => r.request_id)));
  });
});

describe("a rate-limited account", () => {
  it("finishes, waiting as long as each 429's Retry-After said, with no record for a refused request", async () => {
    await sim("/sim/reset", {});
    // 12 a minute, and as many workers as problems: all 16 ask at once, so however slow the machine
    // 12 pass and 4 are refused (a 429 does not hang on the simulator's pace); then one every 5 s.
    const { account, key } = await accountKey("eval rate-limited", { requests_per_minute: 12 });
    const out = join(work, "rate-limited");
    const limit = 16;
    const workers = 16;
    const run = await runEvalCli(["--dataset", "math500", "--limit", String(limit), "--base-url", stack.url, "--api-key", key, "--out", out, "--concurrency", String(workers)]);
    expect(run.code, run.stderr).toBe(0);
    const rows = readRows(out);
    expect(rows).toHaveLength(limit);
    expect(rows.every((r) => r.status === "ok")).toBe(true);
    const limited = rows.flatMap((r) => r.attempts).filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    for (const attempt of limited) {
      expect(attempt.server_wait_ms).toBeGreaterThan(0);
      expect(attempt.waited_ms).toBeGreaterThanOrEqual(attempt.server_wait_ms!);
    }
    // The shared gate keeps the workers from hammering: at most one refusal per worker per wait.
    expect(limited.length).toBeLessThanOrEqual(workers * (limit - 12 + 1));
    expect(progressLines(run.stderr).some((l) => /rate-limited \(429\) retries/.test(l.line))).toBe(true);
    const ledger = await ledgerOf(admin, account.id, limit);
    expect(ledger.records).toHaveLength(limit);
  });
});

function readLines(path: string): number {
  try {
    return readFileSync(path, "utf8").split("\n").filter((l) => l !== "").length;
  } catch {
    return 0;
  }
}

/** Polls a condition of another process's progress (bounded). */
async function waitFor(condition: () => boolean, maxMs = 30_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
