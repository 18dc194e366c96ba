/**
 * @module bench/answers
 * The answer checker's cost, standalone: `node --import tsx bench/answers.ts`.
 * Prints one table: the time to import the CAS module and build its engine
 * the first time; median and p95 CPU per check (process.cpuUsage, user +
 * system) for string/numeric cases and for symbolic cases, with the work
 * units each spends (the budget's currency, so a budget in units can be read
 * as CPU); the bundled, minified, gzipped size of the answer pipeline
 * without the CAS (what the main Worker carries) and of the checker Worker;
 * and both Workers as `wrangler deploy` would upload them (gzipped bundle)
 * and their cold start (bench/workers.ts, the path the gateway rows take),
 * plus the round trip of one RPC over the `CHECKER` service binding.
 * `--no-workers` skips the Workers' rows (they build and boot workerd).
 */
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { checkAnswer, WorkBudget } from "../worker/answers/check";
import type { SymbolicComparer } from "../worker/answers/cas";
import { buildWorker, gatewayBindings, ROOT, timeColdStarts, type Bundle } from "./workers";

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

async function measure(pairs: [string, string][], cas: SymbolicComparer): Promise<{ median: number; p95: number; units: number }> {
  const times: number[] = [];
  const units: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [a, b] of pairs) {
      const budget = new WorkBudget();
      times.push(await cpuMs(() => checkAnswer(a, b, { budget, cas })));
      units.push(budget.spent);
    }
    if (r % 10 === 9) process.stderr.write(`  round ${r + 1}/${ROUNDS}\n`);
  }
  return { median: quantile(times, 0.5), p95: quantile(times, 0.95), units: quantile(units, 0.5) };
}

async function bundleSize(entry: string): Promise<{ raw: number; gzip: number }> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true, minify: true, format: "esm", platform: "neutral", write: false, logLevel: "silent",
    conditions: ["workerd", "worker", "browser"], mainFields: ["module", "main"], external: ["cloudflare:*", "node:*"],
  });
  const code = (out.outputFiles[0] as { contents: Uint8Array }).contents;
  return { raw: code.length, gzip: gzipSync(code).length };
}

const STARTUP_TRIALS = 5;

/** One Worker as deployed: its upload's gzipped size and the median of its cold starts. */
async function deployedWorker(configPath: string, dir: string, spec: { bindings: Record<string, string>; probe: { path: string; method: string; headers: Record<string, string> } }): Promise<{ bundle: Bundle; parseMs: number; readyMs: number; firstRequestMs: number }> {
  const bundle = await buildWorker(configPath, dir);
  const parseMs = parseCompileMs(bundle.scriptPath);
  const samples = await timeColdStarts({ configPath, scriptPath: bundle.scriptPath, startupTrials: STARTUP_TRIALS, ...spec }, join(dir, "host.json"));
  return { bundle, parseMs, readyMs: quantile(samples.map((s) => s.ready_ms), 0.5), firstRequestMs: quantile(samples.map((s) => s.first_request_ms), 0.5) };
}

const PARSE_TRIALS = 15;

/**
 * V8's parse and compile of a bundle as an ES module (CPU time, median of
 * PARSE_TRIALS), the part of a cold start that grows with the bundle: in a
 * child Node with `vm.SourceTextModule`, each trial's source made unique so
 * V8's compilation cache cannot answer it.
 */
function parseCompileMs(scriptPath: string): number {
  const child = `const vm = require("node:vm"); const code = require("node:fs").readFileSync(${JSON.stringify(scriptPath)}, "utf8"); const xs = [];
    for (let i = 0; i < ${PARSE_TRIALS}; i++) { const t = process.cpuUsage(); new vm.SourceTextModule(code + "\\n// trial " + i + " " + Math.random()); const d = process.cpuUsage(t); xs.push((d.user + d.system) / 1000); }
    xs.sort((a, b) => a - b); console.log(xs[Math.floor(xs.length / 2)]);`;
  const out = execFileSync(process.execPath, ["--experimental-vm-modules", "--no-warnings", "-e", child], { encoding: "utf8" });
  return Number(out.trim());
}

const RPC_CALLS = 200;

/**
 * The round trip of one `checkPairs` RPC over a service binding, timed inside
 * workerd by a caller Worker (the clock advances across I/O): a pair the
 * checker decides without the CAS, so what is timed is the call itself.
 */
async function rpcRoundTripMs(checkerScript: string): Promise<number> {
  const caller = `export default { async fetch(request, env) {
    await env.CHECKER.checkPairs([{ reference: "1", candidate: "1" }], 1000);
    const start = Date.now();
    for (let i = 0; i < ${RPC_CALLS}; i++) await env.CHECKER.checkPairs([{ reference: "\\\\frac{1}{2}", candidate: "0.5" }], 1000);
    return new Response(String((Date.now() - start) / ${RPC_CALLS}));
  } };`;
  // Miniflare 5 takes its own shape; the V4 one (as wrangler writes it) converts.
  const mf = new Miniflare(convertV4MiniflareOptions({
    telemetry: { enabled: false },
    workers: [
      { name: "caller", modules: true, script: caller, compatibilityDate: "2026-11-01", serviceBindings: { CHECKER: "limo-checker" } },
      // Module names are relative to rootPath (as in worker-host.ts).
      { name: "limo-checker", modules: true, rootPath: dirname(checkerScript), scriptPath: checkerScript, compatibilityDate: "2026-11-01", compatibilityFlags: ["nodejs_compat"] },
    ],
  }));
  try {
    return Number(await (await mf.dispatchFetch("http://bench/")).text());
  } finally {
    await mf.dispose();
  }
}

/** Both Workers as deployed, and the RPC between them. */
export interface AnswerWorkers {
  main: Awaited<ReturnType<typeof deployedWorker>>;
  checker: Awaited<ReturnType<typeof deployedWorker>>;
  rpcMs: number;
}

/** Builds and cold-starts the API Worker and the checker Worker in `work`, and times the RPC between them. */
export async function answerWorkers(work: string): Promise<AnswerWorkers> {
  process.stderr.write(`the main Worker: bundle and ${STARTUP_TRIALS} cold starts...\n`);
  const main = await deployedWorker(join(ROOT, "wrangler.toml"), join(work, "main"), { bindings: gatewayBindings("http://127.0.0.1:9"), probe: { path: "/healthz", method: "GET", headers: {} } });
  process.stderr.write(`the checker Worker: bundle and ${STARTUP_TRIALS} cold starts...\n`);
  const checker = await deployedWorker(join(ROOT, "checker", "wrangler.toml"), join(work, "checker"), { bindings: {}, probe: { path: "/", method: "GET", headers: {} } });
  process.stderr.write("the RPC round trip...\n");
  return { main, checker, rpcMs: await rpcRoundTripMs(checker.bundle.scriptPath) };
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** The Workers' rows of the table. */
export function answerWorkerRows({ main, checker, rpcMs }: AnswerWorkers): [string, string][] {
  return [
    ["main Worker as deployed, gzip (wrangler deploy --dry-run)", kib(main.bundle.gzipBytes)],
    [`main Worker's module, V8 parse and compile (CPU, median of ${PARSE_TRIALS})`, `${main.parseMs.toFixed(1)} ms`],
    [`main Worker cold start, median of ${STARTUP_TRIALS} (workerd boot to listening / first request)`, `${main.readyMs.toFixed(0)} ms / ${main.firstRequestMs.toFixed(1)} ms`],
    ["checker Worker as deployed, gzip", kib(checker.bundle.gzipBytes)],
    [`checker Worker's module, V8 parse and compile (CPU, median of ${PARSE_TRIALS})`, `${checker.parseMs.toFixed(1)} ms`],
    [`checker Worker cold start, median of ${STARTUP_TRIALS}`, `${checker.readyMs.toFixed(0)} ms / ${checker.firstRequestMs.toFixed(1)} ms`],
    [`RPC round trip over the CHECKER binding, mean of ${RPC_CALLS} (local workerd)`, `${rpcMs.toFixed(2)} ms`],
  ];
}

/** The JSON summary for `npm run bench -- --out FILE`. */
export function answerWorkersSummary({ main, checker, rpcMs }: AnswerWorkers): Record<string, number> {
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    main_gzip_bytes: main.bundle.gzipBytes,
    main_parse_compile_ms: round(main.parseMs),
    main_ready_ms: round(main.readyMs),
    checker_gzip_bytes: checker.bundle.gzipBytes,
    checker_parse_compile_ms: round(checker.parseMs),
    checker_ready_ms: round(checker.readyMs),
    rpc_round_trip_ms: round(rpcMs),
  };
}

/** A two-column markdown table. */
export function markdownRows(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return [`| ${"measure".padEnd(width)} | value |`, `| ${"-".repeat(width)} | --- |`, ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v} |`)].join("\n");
}

async function script(): Promise<void> {
  process.stderr.write("importing the CAS...\n");
  const t0 = performance.now();
  const symbolic = await import("../worker/answers/symbolic");
  const importMs = performance.now() - t0;
  const t1 = performance.now();
  symbolic.compareExpressions("1", "1", new WorkBudget(), false);
  const engineMs = performance.now() - t1;
  process.stderr.write("string and numeric checks...\n");
  const plain = await measure(STRING_NUMERIC, symbolic.symbolicComparer);
  process.stderr.write("symbolic checks...\n");
  const sym = await measure(SYMBOLIC, symbolic.symbolicComparer);
  process.stderr.write("bundling...\n");
  const pipeline = await bundleSize("../worker/answers/check.ts");
  const checkerOnly = await bundleSize("../checker/index.ts");
  let workers: AnswerWorkers | null = null;
  if (!process.argv.includes("--no-workers")) {
    const work = mkdtempSync(join(tmpdir(), "bench-answers-"));
    try {
      workers = await answerWorkers(work);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const rows: [string, string][] = [
    ["CAS module import, first time (wall)", `${importMs.toFixed(0)} ms`],
    ["CAS engine construction, first check (wall)", `${engineMs.toFixed(0)} ms`],
    [`string/numeric check, median CPU (${STRING_NUMERIC.length} pairs x ${ROUNDS})`, `${plain.median.toFixed(3)} ms`],
    ["string/numeric check, p95 CPU", `${plain.p95.toFixed(3)} ms`],
    ["string/numeric check, median work units", String(plain.units)],
    [`symbolic check, median CPU (${SYMBOLIC.length} pairs x ${ROUNDS})`, `${sym.median.toFixed(2)} ms`],
    ["symbolic check, p95 CPU", `${sym.p95.toFixed(2)} ms`],
    ["symbolic check, median work units", String(sym.units)],
    ["answer pipeline without the CAS, in the main Worker (minified / gzip)", `${kib(pipeline.raw)} / ${kib(pipeline.gzip)}`],
    ["checker Worker's code with the CAS (minified / gzip)", `${kib(checkerOnly.raw)} / ${kib(checkerOnly.gzip)}`],
  ];
  if (workers) rows.push(...answerWorkerRows(workers));
  console.log(markdownRows(rows));
}

// Run as a script (`node --import tsx bench/answers.ts`); bench/run.ts imports the Workers' rows.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await script();
