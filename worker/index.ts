/**
 * @module index
 * The Worker's entry point: the fetch handler, nothing else.
 */
import { newApp } from "./app";
import type { Env } from "./env";

const app = newApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
