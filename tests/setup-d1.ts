/**
 * @module setup-d1
 * Applies the D1 migrations (migrations/, read on the Node side by
 * vitest.config.ts) before each test file, exactly as `wrangler d1 migrations
 * apply` does in development. Applying is idempotent.
 */
import { applyD1Migrations, env, type D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Set by vitest.config.ts from migrations/. */
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
