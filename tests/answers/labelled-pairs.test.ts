import { describe, expect, it } from "vitest";
import fixture from "../fixtures/answers/labelled-pairs.jsonl?raw";
import { checkAnswer } from "../../worker/answers/check";
import { symbolicComparer } from "../../worker/answers/symbolic";
import { limitedAccount } from "../helpers/limits";
import { checkWith } from "./check-route.helpers";

interface LabelledPair {
  reference: string;
  candidate: string;
  equivalent: boolean;
  category: string;
}

interface RouteResult {
  equivalent: boolean | null;
  method: string;
  reason: string;
}

const pairs = fixture.trim().split("\n").map((l) => JSON.parse(l) as LabelledPair);
/** The floor this checker reaches on its own labelled set (it agrees on every pair today). */
const AGREEMENT_FLOOR = 0.98;
/** Candidates per request: pairs with one reference travel together, a few at a time (each request has one batch budget). */
const PER_REQUEST = 8;

/** Every pair through `POST /v1/answers/check`: the main Worker's steps, and the CAS in the checker Worker behind the real binding. */
async function checkThroughTheRoute(): Promise<RouteResult[]> {
  const acct = await limitedAccount({ requests_per_minute: 100_000 });
  const byReference = new Map<string, number[]>();
  pairs.forEach((p, i) => byReference.set(p.reference, [...(byReference.get(p.reference) ?? []), i]));
  const out: RouteResult[] = new Array(pairs.length);
  for (const [reference, indexes] of byReference) {
    for (let at = 0; at < indexes.length; at += PER_REQUEST) {
      const batch = indexes.slice(at, at + PER_REQUEST);
      const res = await checkWith(acct.a, acct.key, { reference, candidates: batch.map((i) => pairs[i]!.candidate) });
      expect(res.status).toBe(200);
      const { results } = (await res.json()) as { results: RouteResult[] };
      batch.forEach((i, k) => (out[i] = results[k]!));
    }
  }
  return out;
}

describe("the checker on the labelled pairs (tests/fixtures/answers/labelled-pairs.jsonl)", () => {
  it("holds at least 300 pairs, equal and unequal, over many categories", () => {
    expect(pairs.length).toBeGreaterThanOrEqual(300);
    expect(pairs.filter((p) => p.equivalent).length).toBeGreaterThan(100);
    expect(pairs.filter((p) => !p.equivalent).length).toBeGreaterThan(100);
    expect(new Set(pairs.map((p) => p.category)).size).toBeGreaterThanOrEqual(20);
  });

  // Through the route and the real CHECKER binding, inside workerd: also the proof that the CAS runs there.
  it("never says true on an unequal pair, agrees with the labels on at least 98%, and decides as the in-process pipeline does", { timeout: 300_000 }, async () => {
    const routed = await checkThroughTheRoute();
    const byCategory = new Map<string, { agree: number; total: number; undecided: number }>();
    const falseTrues: string[] = [];
    const disagreements: string[] = [];
    const differFromInProcess: string[] = [];
    for (const [i, p] of pairs.entries()) {
      const r = routed[i]!;
      // The pipeline with the CAS in this isolate, one pair and one call's budget at a time (the checker before the split).
      const here = await checkAnswer(p.reference, p.candidate, { cas: symbolicComparer });
      if (here.equivalent !== r.equivalent || here.method !== r.method) differFromInProcess.push(`${p.reference} vs ${p.candidate}: route ${r.equivalent}/${r.method}, in-process ${here.equivalent}/${here.method}`);
      const c = byCategory.get(p.category) ?? { agree: 0, total: 0, undecided: 0 };
      c.total++;
      if (r.equivalent === p.equivalent) c.agree++;
      else disagreements.push(`${p.category}: ${p.reference} vs ${p.candidate}: ${r.equivalent} (${r.reason})`);
      if (r.equivalent === null) c.undecided++;
      if (r.equivalent === true && !p.equivalent) falseTrues.push(`${p.reference} vs ${p.candidate}`);
      byCategory.set(p.category, c);
    }
    const agree = [...byCategory.values()].reduce((n, c) => n + c.agree, 0);
    const table = [...byCategory].sort(([a], [b]) => a.localeCompare(b)).map(([category, c]) => ({ category, pairs: c.total, agree: c.agree, undecided: c.undecided, agreement: `${((100 * c.agree) / c.total).toFixed(1)}%` }));
    console.log(["category        pairs  agree  undecided  agreement", ...table.map((r) => `${r.category.padEnd(15)} ${String(r.pairs).padStart(5)}  ${String(r.agree).padStart(5)}  ${String(r.undecided).padStart(9)}  ${r.agreement.padStart(9)}`)].join("\n"));
    console.log(`agreement ${agree}/${pairs.length} = ${((100 * agree) / pairs.length).toFixed(2)}%`, disagreements);
    expect(falseTrues).toEqual([]);
    expect(differFromInProcess).toEqual([]);
    expect(agree / pairs.length).toBeGreaterThanOrEqual(AGREEMENT_FLOOR);
  });
});
