/**
 * @module compare
 * Compares two answer shapes part by part. Tuples and intervals compare in
 * order and their brackets must agree; lists, sets and unions of intervals
 * compare as sets (a perfect matching of equal parts); matrices cell by cell;
 * a multiple-choice letter by letter, or by its option text; `x = 5` by its
 * right side. "Different" needs a reason (a part with no equal, a different
 * length, a different letter); where parts are only undecided, so is the whole.
 */
import { normalizeAnswer } from "./normalize";
import { compareScalars, guarded, withoutCas, type ScalarContext, type SideFlags } from "./scalar";
import { isSingleVariable, parseShape, type Shape } from "./shape";
import { BUDGET_SPENT, different, equal, undecided, type CheckMethod, type Verdict } from "./verdict";

/** Both sides' flags and the shared context. */
export interface CompareContext extends ScalarContext {
  ref: SideFlags;
  cand: SideFlags;
}

/** Compares `a` (the reference) with `b` (the candidate). */
export async function compareShapes(a: Shape, b: Shape, ctx: CompareContext): Promise<Verdict> {
  if (ctx.budget.exhausted) return undecided(BUDGET_SPENT);
  if (a.kind === "choice" || b.kind === "choice") return compareChoices(a, b, ctx);
  if (a.kind === "equation" || b.kind === "equation") return compareEquations(a, b, ctx);
  if (a.kind === "text" || b.kind === "text") return compareTexts(a, b);
  if (a.kind === "matrix" || b.kind === "matrix") return compareMatrices(a, b, ctx);
  if (a.kind === "union" || b.kind === "union") {
    const parts = (s: Shape) => (s.kind === "union" ? s.parts : [s]);
    return relabel(await compareSets(parts(a), parts(b), ctx), "interval");
  }
  if (a.kind === "set" || b.kind === "set") {
    if (a.kind === "bracketed" || b.kind === "bracketed") {
      // A tuple against a list: equal parts do not make them equal; different parts make them different.
      const items = (s: Shape) => (s.kind === "set" || s.kind === "bracketed" ? s.items : [s]);
      const v = await compareSets(items(a), items(b), ctx);
      return v.equivalent === true ? undecided("a tuple against a list") : relabel(v, "set");
    }
    const items = (s: Shape) => (s.kind === "set" ? s.items : [s]);
    return compareSets(items(a), items(b), ctx);
  }
  if (a.kind === "bracketed" || b.kind === "bracketed") {
    if (a.kind !== "bracketed" || b.kind !== "bracketed") return different("tuple", "a tuple against a single value");
    return compareBracketed(a, b, ctx);
  }
  return compareScalars(a.text, b.text, ctx.ref, ctx.cand, ctx);
}

function relabel(v: Verdict, method: CheckMethod): Verdict {
  return v.equivalent === null ? v : { ...v, method };
}

async function compareChoices(a: Shape, b: Shape, ctx: CompareContext): Promise<Verdict> {
  if (a.kind === "choice" && b.kind === "choice") {
    if (a.letter === b.letter) return equal("choice", `option (${a.letter})`);
    return different("choice", `option (${b.letter}), not (${a.letter})`);
  }
  // A letter against a value: only the option's own text can be compared.
  const [choice, other, choiceIsRef] = a.kind === "choice" ? [a, b, true] : [b as Extract<Shape, { kind: "choice" }>, a, false];
  if (choice.text === null) return undecided("a choice letter without its option text");
  const text = parseShape(normalizeAnswer(choice.text));
  const v = choiceIsRef ? await compareShapes(text, other, ctx) : await compareShapes(other, text, ctx);
  return relabel(v, "choice");
}

async function compareEquations(a: Shape, b: Shape, ctx: CompareContext): Promise<Verdict> {
  const rhs = (s: Extract<Shape, { kind: "equation" }>) => parseShape(normalizeAnswer(s.rhs));
  if (a.kind === "equation" && b.kind === "equation") {
    if (isSingleVariable(a.lhs) && a.lhs === b.lhs) return compareShapes(rhs(a), rhs(b), ctx);
    // `x = 5` against `k = 5`: two names for one value (LIMO strips both names).
    const [ra, rb] = [rhs(a), rhs(b)];
    if (isSingleVariable(a.lhs) && isSingleVariable(b.lhs) && isConstant(ra) && isConstant(rb)) return compareShapes(ra, rb, ctx);
    const cas = ctx.cas;
    if (cas === null) return withoutCas(ctx);
    return guarded(() => cas.compareEquations([a.lhs, a.rhs], [b.lhs, b.rhs], ctx.budget));
  }
  const eq = (a.kind === "equation" ? a : b) as Extract<Shape, { kind: "equation" }>;
  if (!isSingleVariable(eq.lhs)) {
    const other = a.kind === "equation" ? b : a;
    return isConstant(other) ? different("equation", "an equation against a number") : undecided("an equation against an expression");
  }
  // `x = 5` against `5`: the value is the right side (LIMO strips `x=` too).
  return a.kind === "equation" ? compareShapes(rhs(a), b, ctx) : compareShapes(a, rhs(b as Extract<Shape, { kind: "equation" }>), ctx);
}

function compareTexts(a: Shape, b: Shape): Verdict {
  if (a.kind === "text" && b.kind === "text") {
    const norm = (w: string) => w.replace(/[^a-z ]/g, "").replace(/\s+/g, " ").trim();
    if (norm(a.words) === norm(b.words)) return equal("text", "the same words");
    return different("text", "different words");
  }
  const other = a.kind === "text" ? b : a;
  if (other.kind === "scalar" && !isConstant(other)) return undecided("a word against an expression");
  return different("text", "a word against a value");
}

async function compareMatrices(a: Shape, b: Shape, ctx: CompareContext): Promise<Verdict> {
  const cells = (s: Shape): Shape[][] | null => {
    if (s.kind === "matrix") return s.rows;
    if (s.kind === "bracketed" && s.open === "(" && s.close === ")") return s.items.map((x) => [x]);
    return null;
  };
  const x = cells(a);
  const y = cells(b);
  if (!x || !y) return different("matrix", "a matrix against something else");
  // A vector written as a row or a column is the same vector.
  const flat = (m: Shape[][]) => (m.length === 1 || m.every((r) => r.length === 1) ? [m.flat()] : m);
  const [p, q] = a.kind === "matrix" && b.kind === "matrix" ? [x, y] : [flat(x), flat(y)];
  if (p.length !== q.length || p.some((row, i) => row.length !== (q[i] as Shape[]).length)) return different("matrix", "different dimensions");
  return relabel(await allInOrder(p.flat(), q.flat(), ctx), "matrix");
}

async function compareBracketed(a: Extract<Shape, { kind: "bracketed" }>, b: Extract<Shape, { kind: "bracketed" }>, ctx: CompareContext): Promise<Verdict> {
  const method = a.open === "(" && a.close === ")" ? "tuple" : "interval";
  if (a.items.length !== b.items.length) return different(method, "different number of parts");
  const v = await allInOrder(a.items, b.items, ctx);
  if (v.equivalent !== true) return relabel(v, method);
  if (a.open !== b.open || a.close !== b.close) return different("interval", "the same ends with different brackets");
  return equal(method, "equal part by part");
}

async function allInOrder(xs: Shape[], ys: Shape[], ctx: CompareContext): Promise<Verdict> {
  let unsure: Verdict | null = null;
  for (let i = 0; i < xs.length; i++) {
    const v = await compareShapes(xs[i] as Shape, ys[i] as Shape, ctx);
    if (v.equivalent === false) return { ...v, reason: `part ${i + 1}: ${v.reason}` };
    if (v.equivalent === null) unsure ??= v;
  }
  return unsure ?? equal("tuple", "equal part by part");
}

// Unordered: equal when the parts match one to one, different when some part has no equal at all.
async function compareSets(xs: Shape[], ys: Shape[], ctx: CompareContext): Promise<Verdict> {
  const verdicts: (boolean | null)[][] = [];
  for (const x of xs) {
    const row: (boolean | null)[] = [];
    for (const y of ys) {
      const v = await compareShapes(x, y, ctx);
      if (v.reason === BUDGET_SPENT) return v;
      row.push(v.equivalent);
    }
    verdicts.push(row);
  }
  const missing = verdicts.findIndex((row) => row.every((v) => v === false));
  if (missing >= 0) return different("set", `part ${missing + 1} of the reference is missing`);
  const extra = ys.findIndex((_, j) => verdicts.every((row) => row[j] === false));
  if (extra >= 0) return different("set", `part ${extra + 1} of the answer is not in the reference`);
  if (xs.length === ys.length && perfectMatching(verdicts)) return equal("set", "the same parts in any order");
  if (xs.length !== ys.length && verdicts.every((row) => row.some((v) => v === true)) && ys.every((_, j) => verdicts.some((row) => row[j] === true))) {
    return undecided("the same parts, repeated a different number of times");
  }
  return undecided("parts not all decided");
}

// Kuhn's augmenting paths over the `true` cells; n is at most MAX_SHAPE_ITEMS.
function perfectMatching(m: (boolean | null)[][]): boolean {
  const owner: number[] = new Array<number>(m.length).fill(-1);
  const tryRow = (i: number, seen: boolean[]): boolean => {
    for (let j = 0; j < m.length; j++) {
      if (m[i]?.[j] !== true || seen[j]) continue;
      seen[j] = true;
      if (owner[j] === -1 || tryRow(owner[j] as number, seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  return m.every((_, i) => tryRow(i, new Array<boolean>(m.length).fill(false)));
}

/** A scalar without variables (only digits, operators, LaTeX commands, and i or e as constants). */
export function isConstant(s: Shape): boolean {
  if (s.kind !== "scalar") return false;
  return !/[A-Za-z]/.test(s.text.replace(/\\[A-Za-z]+/g, "").replace(/(?<![A-Za-z])[ie](?![A-Za-z])/g, ""));
}
