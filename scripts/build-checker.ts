/**
 * Builds the checker Worker (checker/index.ts) into one ES module,
 * dist/checker/index.js, for the vitest workers pool: it runs the checker as
 * an auxiliary Worker, and the pool does not bundle auxiliary Workers itself.
 * esbuild with the options wrangler bundles with (ESM, workerd conditions,
 * `cloudflare:` and `node:` imports left to the runtime). `wrangler dev` and
 * `wrangler deploy` build checker/wrangler.toml themselves and need none of this.
 * The bundle is written whole and renamed into place, so a test run reading
 * it while another build writes never sees half a file.
 */
import { build } from "esbuild";
import { mkdirSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The built checker Worker, one ES module. */
export const CHECKER_SCRIPT = join(ROOT, "dist", "checker", "index.js");

export async function buildChecker(): Promise<string> {
  mkdirSync(dirname(CHECKER_SCRIPT), { recursive: true });
  const partial = `${CHECKER_SCRIPT}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(ROOT, "checker", "index.ts")],
    outfile: partial,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2024",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "warning",
  });
  renameSync(partial, CHECKER_SCRIPT);
  return CHECKER_SCRIPT;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = await buildChecker();
  console.log(`built ${path}`);
}
