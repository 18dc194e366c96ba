import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { buildChecker } from "./scripts/build-checker.ts";
import { buildDashboard } from "./scripts/build-dashboard.ts";
import { buildOpenApi } from "./scripts/build-openapi.ts";

/**
 * Two projects: `workers` runs inside workerd with the real D1, KV and Durable
 * Object bindings from wrangler.toml; `node` runs what needs the host (the
 * Python agreement check, the end-to-end run of `npm run dev` with the openai SDK).
 * The simulator is started once on a free loopback port by the global setup.
 * D1 migrations are read here (Node side) and applied by tests/setup-d1.ts.
 * The dashboard's static assets are built here too (wrangler.toml's [assets]
 * must exist before workerd starts; `wrangler dev` builds them itself), and the
 * checker Worker (checker/), which runs beside the Worker under test as an
 * auxiliary Worker behind its `CHECKER` service binding (wrangler.toml), as
 * in production; `CHECKER_DOWN` is a binding to a Worker that answers no RPC,
 * for the tests of a checker that fails.
 */
export default defineConfig({
  test: {
    globalSetup: ["./tests/global-setup.ts"],
    projects: [
      {
        plugins: [
          cloudflareTest(async () => {
            await buildDashboard({ quiet: true });
            const checkerScript = await buildChecker();
            // The served OpenAPI document, generated from the routes (tests/admin/openapi-build.test.ts).
            buildOpenApi();
            return {
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                workers: [
                  // checker/wrangler.toml's name, date and flags: the `CHECKER` binding names it.
                  { name: "limo-checker", modules: true, scriptPath: checkerScript, compatibilityDate: "2026-11-01", compatibilityFlags: ["nodejs_compat"] },
                  {
                    name: "limo-checker-down",
                    modules: true,
                    script: 'export default { fetch() { return new Response("checker down", { status: 503 }); } };',
                    compatibilityDate: "2026-11-01",
                  },
                ],
                serviceBindings: { CHECKER_DOWN: "limo-checker-down" },
                bindings: {
                  TEST_MIGRATIONS: await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url))),
                  // wrangler.toml says production; the tests run as `npm run dev` does.
                  ENVIRONMENT: "development",
                  // Production holds a request for minutes while every backend is cold; a test that
                  // wants a cold start waited out sets its own budget (tests/backends).
                  COLD_START_BUDGET_MS: "300",
                  // A reconnect grace of 300 ms instead of 2 s, so disconnect tests see the backend stop within their
                  // time budget (tests/generations sets its own where the grace itself is tested).
                  GENERATION_GRACE_MS: "300",
                },
              },
            };
          }),
        ],
        // As wrangler.toml's [alias]: the tests run the bundle's zod-openapi, without the generator.
        resolve: { alias: { "@hono/zod-openapi": fileURLToPath(new URL("./worker/http/openapi/zod-openapi-runtime.ts", import.meta.url)) } },
        test: {
          name: "workers",
          setupFiles: ["./tests/setup-d1.ts"],
          include: ["tests/**/*.test.ts"],
          exclude: ["tests/node/**"],
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["tests/node/**/*.test.ts"],
          // Files that start `npm run dev` share .wrangler/state (and its D1
          // migrations on a fresh checkout): one at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
