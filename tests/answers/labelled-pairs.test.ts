import { describe, expect, it } from "vitest";
import fixture from "../fixtures/answers/labelled-pairs.jsonl?raw";
import { checkAnswer } from "../../worker/answers/check";

interface LabelledPair {
  reference: string;
  candidate: string;
  equivalent: boolean;
  category: string;
}

const pairs = fixture.trim().split("\n").map((l) => JSON.parse(l) as LabelledPair);
/** The floor this checker reaches on its own labelled set (it agrees on every pair today). */
const AGREEMENT_FLOOR = 0.98;

describe("the checker on the labelled pairs (tests/fixtures/answers/labelled-pairs.jsonl)", () => {
  it("holds at least 300 pairs, equal and unequal, over many categories", () => {
    expect(pairs.length).toBeGreaterThanOrEqual(300);
    expect(pairs.filter((p) => p.equivalent).length).toBeGreaterThan(100);
    expect(pairs.filter((p) => !p.equivalent).length).toBeGreaterThan(100);
    expect(new Set(pairs.map((p) => p.category)).size).toBeGreaterThanOrEqual(20);
  });

  // Runs inside workerd (the CAS included): this is also the proof that the symbolic path works there.
  it("never says true on an unequal pair, and agrees with the labels on at least 98%", { timeout: 300_000 }, async () => {
    const byCategory = new Map<string, { agree: number; total: number; undecided: number }>();
    const falseTrues: string[] = [];
    const disagreements: string[] = [];
    for (const p of pairs) {
      const r = await checkAnswer(p.reference, p.candidate);
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
    expect(agree / pairs.length).toBeGreaterThanOrEqual(AGREEMENT_FLOOR);
  });
});
