/**
 * @module bench/answers
 * The answer checker's cost, standalone: `node --import tsx bench/answers.ts`.
 * Prints one table: the time to import the CAS module and build its engine
 * the first time; median and p95 CPU per check (process.cpuUsage, user +
 * system) for string/numeric cases and for symbolic cases, with the work
 * units each spends (the budget's currency, so a budget in units can be read
 * as CPU); and the bundled, minified, gzipped size of the checker with and
 * without the CAS (esbuild, as wrangler bundles).
 */
import { build, type Plugin } from "esbuild";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { checkAnswer, WorkBudget } from "../worker/answers/check";

const ROUNDS = 40;
const STRING_NUMERIC: [string, string][] = [
  ["\\frac{1}{2}", "0.5"], ["\\frac{1}{2}", "x = 0.5"], ["\\frac{1}{2}", "2"], ["10,\\!080", "10080"], ["\\text{(B)}", "(C)"],
  ["3, 5, 7", "7, 5, 3"], ["(15,-29)", "(-29,15)"], ["\\left(\\frac{3}{5},\\frac{8}{3}\\right]", "(0.6, \\frac{8}{3})"], ["25\\%", "0.25"],
  ["120^\\circ", "120"], ["\\$32,\\!348", "32348"], ["\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}", "\\begin{bmatrix} 0.2 \\\\ -3.6 \\end{bmatrix}"],
  ["4210_{5}", "4210_5"], ["\\text{Evelyn}", "Navin"], ["033", "33"], ["123456", "123457"],
];
const SYMBOLIC: [string, string][] = [
  ["2\\sqrt{2}", "\\sqrt{8}"], ["(x+1)^2", "x^2+2x+1"], ["\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}"], ["\\pi", "3.1416"],
  ["1+274i", "274i+1"], ["p - q", "q - p"], ["x^5 - x^4 + x^3 - x^2 + x - 1", "(x-1)(x^4+x^2+1)"], ["30^\\circ", "\\frac{\\pi}{6}"],
  ["5x - 7y + 11z + 4 = 0", "-5x + 7y - 11z - 4 = 0"], ["\\frac{11+9a}{20}", "\\frac{11-9a}{20}"], ["\\cot x", "\\frac{\\cos x}{\\sin x}"],
];

function cpuMs(f: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  return f().then(() => {
    const d = process.cpuUsage(start);
    return (d.user + d.system) / 1000;
  });
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

async function measure(pairs: [string, string][]): Promise<{ median: number; p95: number; units: number }> {
  const times: number[] = [];
  const units: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [a, b] of pairs) {
      const budget = new WorkBudget();
      times.push(await cpuMs(() => checkAnswer(a, b, { budget })));
      units.push(budget.spent);
    }
    if (r % 10 === 9) process.stderr.write(`  round ${r + 1}/${ROUNDS}\n`);
  }
  return { median: quantile(times, 0.5), p95: quantile(times, 0.95), units: quantile(units, 0.5) };
}

async function bundleSize(withCas: boolean): Promise<{ raw: number; gzip: number }> {
  const keepOut: Plugin = {
    name: "cas-outside",
    setup(b) {
      b.onResolve({ filter: /\/symbolic$/ }, (args) => (withCas ? undefined : { path: args.path, external: true }));
    },
  };
  const out = await build({
    entryPoints: [fileURLToPath(new URL("../worker/answers/check.ts", import.meta.url))],
    bundle: true, minify: true, format: "esm", platform: "neutral", write: false, plugins: [keepOut], logLevel: "silent",
  });
  const code = (out.outputFiles[0] as { contents: Uint8Array }).contents;
  return { raw: code.length, gzip: gzipSync(code).length };
}

process.stderr.write("importing the CAS...\n");
const t0 = performance.now();
const symbolic = await import("../worker/answers/symbolic");
const importMs = performance.now() - t0;
const t1 = performance.now();
symbolic.compareExpressions("1", "1", new WorkBudget(), false);
const engineMs = performance.now() - t1;
process.stderr.write("string and numeric checks...\n");
const plain = await measure(STRING_NUMERIC);
process.stderr.write("symbolic checks...\n");
const sym = await measure(SYMBOLIC);
process.stderr.write("bundling...\n");
const without = await bundleSize(false);
const withCas = await bundleSize(true);

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const rows: [string, string][] = [
  ["CAS module import, first time (wall)", `${importMs.toFixed(0)} ms`],
  ["CAS engine construction, first check (wall)", `${engineMs.toFixed(0)} ms`],
  [`string/numeric check, median CPU (${STRING_NUMERIC.length} pairs x ${ROUNDS})`, `${plain.median.toFixed(3)} ms`],
  ["string/numeric check, p95 CPU", `${plain.p95.toFixed(3)} ms`],
  ["string/numeric check, median work units", String(plain.units)],
  [`symbolic check, median CPU (${SYMBOLIC.length} pairs x ${ROUNDS})`, `${sym.median.toFixed(2)} ms`],
  ["symbolic check, p95 CPU", `${sym.p95.toFixed(2)} ms`],
  ["symbolic check, median work units", String(sym.units)],
  ["checker bundle without the CAS (minified / gzip)", `${kib(without.raw)} / ${kib(without.gzip)}`],
  ["checker bundle with the CAS (minified / gzip)", `${kib(withCas.raw)} / ${kib(withCas.gzip)}`],
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log(`| ${"measure".padEnd(width)} | value |\n| ${"-".repeat(width)} | --- |`);
for (const [k, v] of rows) console.log(`| ${k.padEnd(width)} | ${v} |`);
