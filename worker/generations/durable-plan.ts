/**
 * @module durable-plan
 * Which admitted requests a generation object owns. A request goes through
 * one when it streams (every SSE response must be resumable: `x-generation-id`
 * and `id:` on every event), is cacheable (identical requests must meet in
 * one object), or runs in the background. A plain non-streaming, uncacheable
 * request keeps the direct path (direct-generation-service): its JSON cannot
 * be resumed, so a second Durable Object round trip would buy it nothing.
 * Pure.
 */
import { DISCONNECT_GRACE_MS } from "../../shared/generations";
import type { Env } from "../env";
import { cachePolicy, type CacheInputs, type CachePolicy } from "./cache-key";
import type { PreparedRequest } from "./prepare";

export interface DurablePlan {
  background: boolean;
  cache: CachePolicy | null;
}

/** How a request is to be generated: null for the direct path. */
export function durablePlan(
  prepared: PreparedRequest,
  request: CacheInputs & { background?: boolean | null },
  cacheControl: string | undefined,
  env: Pick<Env, "CACHE_TTL_SECONDS">,
): DurablePlan | null {
  const cache = cachePolicy(request, cacheControl, positiveInt(env.CACHE_TTL_SECONDS));
  const background = request.background === true;
  if (!prepared.stream && !background && !cache) return null;
  return { background, cache };
}

/** How long a foreground generation waits for a reconnect, in ms. */
export function graceMs(env: Pick<Env, "GENERATION_GRACE_MS">): number {
  return positiveInt(env.GENERATION_GRACE_MS) ?? DISCONNECT_GRACE_MS;
}

function positiveInt(text: string | undefined): number | undefined {
  const n = text ? Number(text) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
