/**
 * @module cache-key
 * Which requests the response cache may answer, and the key it files them
 * under. Pure: the rules are unit-tested without a runtime.
 *
 * The key is the SHA-256 of a canonical form of the *backend* request (after
 * LIMO's defaults and the granted max_tokens are applied: the system prompt,
 * temperature, top_p, every sampling field, n, stop, seed, logprobs,
 * response_format: a JSON answer is never replayed for free text), plus the
 * endpoint and the scope. Never of the raw JSON text: key order, spacing,
 * `null` for unset, or an explicit default all land on the same entry.
 * Left out: `stream`/`stream_options` (the backend is always called the same
 * way; a hit is replayed in the client's mode) and `user` (an end-user tag
 * that does not change the output: tutoring apps set it per student; prepare
 * no longer sends it, nor `safety_identifier`, to the backend at all).
 */
import { DEFAULT_CACHE_TTL_SECONDS, type CacheOptions } from "../../shared/generations";
import { canonicalJson, sha256Hex } from "../core/canonical-json";

/** What the cache may do for one request. */
export interface CachePolicy {
  /** A finished answer may be replayed (false with `Cache-Control: no-cache`: generate afresh, refresh the entry). */
  read: boolean;
  /** `shared`: one entry for every account that asks for the shared scope. */
  scope: "account" | "shared";
  ttlSeconds: number;
}

/** The fields of a validated request that decide cacheability. */
export interface CacheInputs {
  temperature?: number | null;
  seed?: number | null;
  cache?: CacheOptions | null;
}

/** Backend fields that do not change the answer. */
const KEY_IGNORED_FIELDS = new Set(["stream", "stream_options", "user"]);

/**
 * The request's cache policy, or null when the cache must not be used:
 * sampled requests (temperature above 0 and no seed) unless opted in, an
 * explicit `cache.enabled: false`, and `Cache-Control: no-store`.
 */
export function cachePolicy(request: CacheInputs, cacheControl: string | undefined, defaultTtlSeconds?: number): CachePolicy | null {
  const directives = parseCacheControl(cacheControl);
  if (directives.has("no-store")) return null;
  const options = request.cache ?? {};
  if (options.enabled === false) return null;
  // LIMO's default temperature (0.7) applies when unset: an unset temperature samples.
  const deterministic = request.temperature === 0 || (request.seed !== null && request.seed !== undefined);
  if (!deterministic && options.enabled !== true) return null;
  return {
    read: !directives.has("no-cache"),
    scope: options.scope ?? "account",
    ttlSeconds: options.ttl_seconds ?? defaultTtlSeconds ?? DEFAULT_CACHE_TTL_SECONDS,
  };
}

/** Lower-cased directive names of a Cache-Control header. */
export function parseCacheControl(header: string | undefined): Set<string> {
  const names = new Set<string>();
  for (const part of (header ?? "").split(",")) {
    const name = part.split("=")[0]!.trim().toLowerCase();
    if (name) names.add(name);
  }
  return names;
}

/** The cache key (64 hex characters) of a backend request in a scope. */
export async function cacheKey(accountId: string, scope: CachePolicy["scope"], path: string, backendBody: Record<string, unknown>): Promise<string> {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(backendBody)) if (!KEY_IGNORED_FIELDS.has(k)) body[k] = v;
  return sha256Hex(canonicalJson({ v: 1, scope: scope === "shared" ? "shared" : `account:${accountId}`, path, body }));
}
