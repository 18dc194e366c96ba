import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * `npm run bench:pool-cost`: the pool object's lease round trip, timed inside
 * workerd with the real Durable Object binding from wrangler.toml.
 */
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
  test: { name: "pool-cost", include: ["bench/pool-cost/pool-cost.test.ts"] },
});
