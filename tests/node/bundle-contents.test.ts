/**
 * What the Worker's bundle must not carry (issue 18): the OpenAPI generator
 * (the document is built at build time, scripts/build-openapi.ts) and zod's
 * locales and JSON-schema converters. Bundles worker/index.ts with esbuild
 * and wrangler.toml's `[alias]`, as `wrangler deploy` does, and reads the
 * metafile. `npm run bench` reports the sizes.
 */
import { build } from "esbuild";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";

const ROOT = join(import.meta.dirname, "..", "..");

async function bundleInputs(): Promise<string[]> {
  const config = unstable_readConfig({ config: join(ROOT, "wrangler.toml") }, { hideWarnings: true });
  const alias = Object.fromEntries(Object.entries((config.alias ?? {}) as Record<string, string>).map(([from, to]) => [from, join(ROOT, to)]));
  const result = await build({
    entryPoints: [join(ROOT, "worker", "index.ts")],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*"],
    alias,
    logLevel: "silent",
  });
  // What made it into the output (the metafile's `inputs` also lists what tree shaking dropped).
  return Object.values(result.metafile.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([path]) => path));
}

describe("the Worker's bundle", () => {
  it("has neither the OpenAPI generator nor zod's locales", async () => {
    const inputs = await bundleInputs();
    expect(inputs.some((i) => i.startsWith("worker/"))).toBe(true);
    expect(inputs.filter((i) => i.includes("zod-to-openapi")), "the generator: import it only from worker/http/openapi/generate-document.ts").toEqual([]);
    // `import { z } from "zod"` anywhere in the bundle brings in the whole namespace: write `import * as z from "zod"`.
    const zodExtras = inputs.filter((i) => /zod\/v4\/(locales\/(?!en\.js)|classic\/from-json-schema)/.test(i));
    expect(zodExtras, 'zod\'s extras: import zod as `import * as z from "zod"`, never `import { z } from "zod"`').toEqual([]);
  }, 60_000);
});
