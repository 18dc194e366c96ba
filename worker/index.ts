/**
 * @module index
 * The Worker's entry point: the fetch handler and the Durable Object classes,
 * nothing else.
 */
import { newApp } from "./app";
import type { Env } from "./env";
import { pollBackends } from "./routing/health-poll";

export { AccountDO } from "./accounts/account-do";
export { GenerationDO } from "./generations/generation-do";
export { ResponseStoreDO } from "./responses/response-store-do";
export { BackendPoolDO } from "./routing/backend-pool-do";

const app = newApp();

export default {
  fetch: app.fetch,
  /** The cron trigger: backend health and metrics into the pool object (worker/routing/health-poll.ts). */
  scheduled: (_controller, env, ctx) => ctx.waitUntil(pollBackends(env)),
} satisfies ExportedHandler<Env>;
