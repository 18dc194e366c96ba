/**
 * @module node/plan.test
 * `npm run plan` against an M/M/c queue computed here, independently of
 * scripts/plan/erlang.ts: with exponential answers and no prompt the
 * planner's model is exactly M/M/k with k = containers x max_num_seqs, and
 * its decode step solves a linear fixed point this test writes out from
 * the documented constants (profiles.md). Also: the cold-start probability
 * of a scale-to-zero deployment, snapshots shortening the cold wait, and
 * the command line printing JSON.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { GPU_PROFILES } from "../../gpu/sim/perf/profiles";
import { parseDistribution } from "../../scripts/plan/distribution";
import { operatingPoint, plan, type PlanInput } from "../../scripts/plan/model";
import { loadModalPrices } from "../../scripts/plan/prices";
import { parseRate } from "../../scripts/plan";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const GIB = 2 ** 30;
const H200 = GPU_PROFILES["h200-bf16"];
const SLOTS = 7;
const prices = loadModalPrices();

/** Erlang C from its definition, in logs: (a^k/k! k/(k-a)) / (sum_{i<k} a^i/i! + a^k/k! k/(k-a)). */
function erlangCByDefinition(k: number, a: number): number {
  const logTerm = (i: number) => i * Math.log(a) - logFactorial(i);
  const logTop = logTerm(k) + Math.log(k / (k - a));
  const terms = Array.from({ length: k }, (_, i) => logTerm(i));
  const max = Math.max(logTop, ...terms);
  const sum = terms.reduce((s, t) => s + Math.exp(t - max), 0) + Math.exp(logTop - max);
  return Math.exp(logTop - max) / sum;
}
function logFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

/**
 * The reduced model by hand. A decode step with b = rho x 7 sequences of mean context E[L]
 * (exponential: E[L^2] / 2E[L] = E[L]) takes alpha + beta rho seconds, alpha = 0.4 ms + 61 GiB / 4.8 TB/s,
 * beta = 7 E[L] x 256 KiB / 4.8 TB/s; a sequence holds a slot L steps, so rho = lambda E[L] (alpha + beta rho) / 7c.
 */
function mmc(lambda: number, meanTokens: number, containers: number) {
  const alpha = 0.4e-3 + (61 * GIB) / 4.8e12;
  const beta = (SLOTS * meanTokens * 256 * 1024) / 4.8e12;
  const rho = (lambda * meanTokens * alpha) / (containers * SLOTS - lambda * meanTokens * beta);
  const step = alpha + beta * rho;
  const mu = 1 / (meanTokens * step);
  const k = containers * SLOTS;
  const c = erlangCByDefinition(k, lambda / mu);
  const p95Wait = c <= 0.05 ? 0 : Math.log(c / 0.05) / (k * mu - lambda);
  return { rho, step, c, p95Ttft: p95Wait + step };
}

const base = (over: Partial<PlanInput> = {}): PlanInput => ({
  requestsPerSecond: 0.05,
  answer: parseDistribution("exp:8000"),
  promptTokens: 0,
  sequencesPerRequest: 1,
  profile: H200,
  p95TtftSeconds: 10,
  scaledownWindowSeconds: 900,
  minContainers: 1,
  maxContainers: 100,
  snapshot: false,
  prices,
  ...over,
});

describe("the planner reduces to M/M/c", () => {
  it.each([0.02, 0.05, 0.1, 0.3])("at %f requests/s: same containers, utilisation, step and p95 as Erlang C", (lambda) => {
    const target = 10;
    const result = plan(base({ requestsPerSecond: lambda, p95TtftSeconds: target }));
    let containers = 1;
    while (!(mmc(lambda, 8000, containers).rho < 1 && mmc(lambda, 8000, containers).p95Ttft <= target)) containers++;
    const expected = mmc(lambda, 8000, containers);
    expect(result.containersNeeded).toBe(containers);
    expect(result.operating!.utilisation).toBeCloseTo(expected.rho, 9);
    expect(result.operating!.stepMs / 1000).toBeCloseTo(expected.step, 12);
    expect(result.operating!.serviceScv).toBeCloseTo(1, 9);
    expect(result.operating!.pWait).toBeCloseTo(expected.c, 9);
    expect(result.operating!.p95TtftSeconds).toBeCloseTo(expected.p95Ttft, 6);
    // One container fewer would miss the target (or be unstable).
    if (containers > 1) {
      const fewer = mmc(lambda, 8000, containers - 1);
      expect(fewer.rho >= 1 || fewer.p95Ttft > target).toBe(true);
    }
  });

  it("at every container count, under load too: the same P(wait) and p95 wait as Erlang C", () => {
    const lambda = 0.3;
    const input = base({ requestsPerSecond: lambda });
    let checkedQueueing = 0;
    for (let containers = 1; containers <= 12; containers++) {
      const expected = mmc(lambda, 8000, containers);
      const op = operatingPoint(input, containers);
      expect(op.stable).toBe(expected.rho > 0 && expected.rho < 1);
      if (!op.stable) continue;
      expect(op.pWait).toBeCloseTo(expected.c, 9);
      expect(op.p95TtftSeconds).toBeCloseTo(expected.p95Ttft, 6);
      if (expected.c > 0.05) checkedQueueing++;
    }
    // Some of these points queue (more than 5 % wait), so the tail's decay rate is tested, not only C.
    expect(checkedQueueing).toBeGreaterThan(0);
  });

  it("a tighter target needs more containers, never fewer", () => {
    const loose = plan(base({ requestsPerSecond: 0.3, p95TtftSeconds: 60 })).containersNeeded!;
    const tight = plan(base({ requestsPerSecond: 0.3, p95TtftSeconds: 0.5 })).containersNeeded!;
    expect(tight).toBeGreaterThan(loose);
  });
});

describe("cold starts and cost", () => {
  it("scale to zero: P(cold) = exp(-lambda (E[T] + window)); a snapshot boot shortens the p95", () => {
    const input = base({ requestsPerSecond: 0.001, minContainers: 0, scaledownWindowSeconds: 300, p95TtftSeconds: 1000 });
    const cold = plan(input);
    const service = cold.operating!.meanServiceSeconds;
    expect(cold.cold.pColdStart).toBeCloseTo(Math.exp(-0.001 * (service + 300)), 12);
    expect(cold.cold.bootSeconds).toBe(240);
    expect(cold.cold.p95TtftSecondsWithCold).toBeGreaterThan(200);
    const snap = plan({ ...input, snapshot: true });
    expect(snap.cold.bootSeconds).toBe(H200.snapshotBootSeconds);
    expect(snap.cold.p95TtftSecondsWithCold).toBeLessThan(cold.cold.p95TtftSecondsWithCold);
    expect(plan({ ...input, minContainers: 1 }).cold.pColdStart).toBe(0);
  });

  it("prices the H200 container per second from gpu/modal-prices.json", () => {
    const r = plan(base());
    const perSecond = prices.gpu_per_second.H200!.price + 4 * prices.cpu_core_per_second.price + 32 * prices.memory_gib_per_second.price;
    expect(r.cost.containerDollarsPerHour).toBeCloseTo(perSecond * 3600, 9);
    expect(r.cost.outputTokensPerSecond).toBeCloseTo(0.05 * 8000, 9);
    expect(r.cost.dollarsPerMillionOutputTokens).toBeCloseTo((r.cost.dollarsPerHour / (400 * 3600)) * 1e6, 9);
    expect(prices.as_of).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe("the command line", () => {
  it("parses rates per second, minute and hour", () => {
    expect(parseRate("0.5")).toBe(0.5);
    expect(parseRate("30/min")).toBe(0.5);
    expect(parseRate("1800/h")).toBe(0.5);
    expect(() => parseRate("fast")).toThrow(/--rate/);
  });

  it("npm run plan -- ... --json prints the plan as JSON", () => {
    const r = spawnSync("node", ["--import", "tsx", "scripts/plan.ts", "--rate", "3/min", "--answer-tokens", "limo", "--profile", "h100-fp8", "--p95-ttft", "30", "--json"], {
      cwd: REPO,
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ inputs: { profile: "h100-fp8", rate_per_second: 0.05 }, per_container: { max_num_seqs: 4 }, meets_target: expect.any(Boolean) });
    expect(report.containers_needed).toBeGreaterThanOrEqual(1);
  });

  it("refuses a bad flag with exit code 2 and a message", () => {
    const r = spawnSync("node", ["--import", "tsx", "scripts/plan.ts", "--rate", "1", "--p95-ttft", "x"], { cwd: REPO, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--p95-ttft");
  });
});
