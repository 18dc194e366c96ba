/**
 * `npm run build:dashboard`: builds the operators' dashboard into static
 * assets (dist/dashboard), which Workers' `[assets]` serves at `/dashboard`
 * before the Worker runs, so neither the page nor uPlot is part of the
 * Worker's bundle or start-up. esbuild bundles and minifies the TypeScript
 * (uPlot included) and the CSS under content-hashed names; the HTML names
 * them; `_headers` gives the page its Content-Security-Policy. Prints what
 * each file weighs, raw and gzipped.
 *
 * Also imported by vitest.config.ts and run by wrangler's `[build]`, so the
 * assets exist before anything serves them. Builds may overlap (the workerd
 * tests read the assets while a browser test's `wrangler dev` builds them
 * again), so a build never empties the folder: each file is written whole
 * and renamed into place, and files of earlier builds are removed last.
 */
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE = join(ROOT, "dashboard");
/** The assets directory wrangler.toml's `[assets]` serves from (the site root). */
export const DASHBOARD_ASSETS_DIR = join(ROOT, "dist", "dashboard");
/** The page's path. */
export const DASHBOARD_PATH = "/dashboard";
/** Where its script, stylesheet and icon are served, under content-hashed names (cached for good). */
export const DASHBOARD_ASSET_PATH = `${DASHBOARD_PATH}/assets`;

/**
 * No inline script or style, nothing from another origin: the page talks to
 * this Worker's API and nothing else. uPlot styles its elements through the
 * CSSOM (`el.style.x = …`), which `style-src 'self'` allows.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** `frame-ancestors` is ignored in a <meta> (and logged as an error there), so the copy in the HTML leaves it out. */
const META_CSP = DASHBOARD_CSP.split("; ").filter((d) => !d.startsWith("frame-ancestors")).join("; ");

const HEADERS = `# Served by Workers' static assets (wrangler.toml [assets]); written by scripts/build-dashboard.ts.
${DASHBOARD_PATH}
  Content-Security-Policy: ${DASHBOARD_CSP}
  X-Content-Type-Options: nosniff
  X-Frame-Options: DENY
  Referrer-Policy: no-referrer
  Cache-Control: no-cache
${DASHBOARD_ASSET_PATH}/*
  X-Content-Type-Options: nosniff
  Cache-Control: public, max-age=31536000, immutable
`;

export interface DashboardFile {
  path: string;
  bytes: number;
  gzipBytes: number;
}

function hashed(name: string, content: Buffer | string): string {
  const hash = createHash("sha256").update(content).digest("hex").slice(0, 10);
  const dot = name.lastIndexOf(".");
  return `${name.slice(0, dot)}-${hash}${name.slice(dot)}`;
}

/** Writes `content` to `path` through a temporary file, so a reader sees the old file or the new one, never half of one. */
function writeWhole(path: string, content: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}

/** Builds the dashboard's assets; returns every file of the page with its size. */
export async function buildDashboard(options: { quiet?: boolean } = {}): Promise<DashboardFile[]> {
  const folder = join(DASHBOARD_ASSETS_DIR, DASHBOARD_ASSET_PATH.slice(1));
  mkdirSync(folder, { recursive: true });
  const result = await build({
    entryPoints: { app: join(SOURCE, "src", "main.ts"), style: join(SOURCE, "static", "dashboard.css") },
    bundle: true,
    minify: true,
    format: "esm",
    target: ["chrome111", "firefox111", "safari16.4"],
    outdir: folder,
    entryNames: "[name]-[hash]",
    write: false,
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
  });
  for (const file of result.outputFiles) writeWhole(file.path, file.contents);
  const outputs = result.outputFiles.map((file) => file.path);
  const script = outputs.find((path) => path.endsWith(".js"));
  const style = outputs.find((path) => path.endsWith(".css"));
  if (!script || !style) throw new Error("esbuild wrote no script or stylesheet for the dashboard");
  const iconSource = readFileSync(join(SOURCE, "static", "icon.svg"));
  const icon = hashed("icon.svg", iconSource);
  writeWhole(join(folder, icon), iconSource);
  const url = (file: string) => `${DASHBOARD_ASSET_PATH}/${basename(file)}`;
  const html = readFileSync(join(SOURCE, "static", "dashboard.html"), "utf8")
    .replace("{{csp}}", META_CSP)
    .replace("{{icon}}", url(icon))
    .replace("{{style}}", url(style))
    .replace("{{script}}", url(script));
  // dashboard.html is served at /dashboard (html_handling drops the extension).
  writeWhole(join(DASHBOARD_ASSETS_DIR, "dashboard.html"), html);
  writeWhole(join(DASHBOARD_ASSETS_DIR, "_headers"), HEADERS);
  const current = new Set([basename(script), basename(style), icon]);
  for (const name of readdirSync(folder)) if (!current.has(name) && !name.endsWith(".tmp")) rmSync(join(folder, name), { force: true });

  const files = [join(DASHBOARD_ASSETS_DIR, "dashboard.html"), script, style, join(folder, icon)].map((path) => {
    const content = readFileSync(path);
    return { path: relative(DASHBOARD_ASSETS_DIR, path), bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
  });
  if (!options.quiet) {
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    for (const f of files) console.log(`  ${f.path.padEnd(40)} ${kib(f.bytes).padStart(10)} ${kib(f.gzipBytes).padStart(10)} gzipped`);
    const total = files.reduce((sum, f) => ({ bytes: sum.bytes + f.bytes, gzip: sum.gzip + f.gzipBytes }), { bytes: 0, gzip: 0 });
    console.log(`  ${"page weight".padEnd(40)} ${kib(total.bytes).padStart(10)} ${kib(total.gzip).padStart(10)} gzipped`);
  }
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`Building the dashboard into ${relative(ROOT, DASHBOARD_ASSETS_DIR)}/`);
  await buildDashboard();
}
