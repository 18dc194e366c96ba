/**
 * @module index
 * The Worker's entry point: the fetch handler and the Durable Object classes,
 * nothing else.
 */
import { newApp } from "./app";
import type { Env } from "./env";

export { AccountDO } from "./durable-objects/account-do";

const app = newApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
