/**
 * @module client-token-format
 * The client token format, pure: the API keys' layout (keys/key-format.ts)
 * under its own prefix, `limo_ct_` (from a live key) or `limo_ct_test_` (from
 * a test key), then 65 base62 characters:
 *
 *   random (43: 32 bytes) | account routing part (16) | CRC32 checksum (6)
 *
 * so a forged or mistyped token is refused offline, a real one goes straight
 * to its account's object, and secret scanners can recognise one. Only its
 * SHA-256 (`hashApiKey`) is stored.
 */
import type { KeyMode } from "../../../shared/admin";
import { ACCOUNT_ID_PREFIX, ACCOUNT_ROUTING_CHARS, checksum, isRoutableAccountId, randomBase62, toBase62 } from "../keys/key-format";

export const CLIENT_TOKEN_PREFIXES: Record<KeyMode, string> = { live: "limo_ct_", test: "limo_ct_test_" };
export const CLIENT_TOKEN_ID_PREFIX = "ct_";

/** Random bytes in a token and their length in base62 (as in an API key). */
const TOKEN_RANDOM_BYTES = 32;
const TOKEN_RANDOM_CHARS = 43;
const TOKEN_CHECKSUM_CHARS = 6;
const TOKEN_BODY_CHARS = TOKEN_RANDOM_CHARS + ACCOUNT_ROUTING_CHARS + TOKEN_CHECKSUM_CHARS;
const TOKEN_PATTERN = new RegExp(`^limo_ct_(?:(test)_)?([0-9A-Za-z]{${TOKEN_BODY_CHARS}})$`);

/** A new token id (`ct_` and 16 base62 characters): what the usage log and errors may name. */
export function newClientTokenId(): string {
  return CLIENT_TOKEN_ID_PREFIX + randomBase62(ACCOUNT_ROUTING_CHARS);
}

/** A new secret for an account (whose id must be routable), in the mode of the key that mints it. */
export function generateClientToken(accountId: string, mode: KeyMode): string {
  if (!isRoutableAccountId(accountId)) throw new Error(`account id ${accountId} cannot carry client tokens`);
  let value = 0n;
  for (const byte of crypto.getRandomValues(new Uint8Array(TOKEN_RANDOM_BYTES))) value = (value << 8n) | BigInt(byte);
  const head = CLIENT_TOKEN_PREFIXES[mode] + toBase62(value, TOKEN_RANDOM_CHARS) + accountId.slice(ACCOUNT_ID_PREFIX.length);
  return head + checksum(head);
}

/** The mode and account of a well-formed token with a valid checksum, else null. */
export function parseClientToken(secret: string): { mode: KeyMode; accountId: string } | null {
  const match = TOKEN_PATTERN.exec(secret);
  if (!match) return null;
  const body = match[2]!;
  if (checksum(secret.slice(0, secret.length - TOKEN_CHECKSUM_CHARS)) !== body.slice(-TOKEN_CHECKSUM_CHARS)) return null;
  return { mode: match[1] ? "test" : "live", accountId: ACCOUNT_ID_PREFIX + body.slice(TOKEN_RANDOM_CHARS, TOKEN_RANDOM_CHARS + ACCOUNT_ROUTING_CHARS) };
}

/** The visible part of a token: its prefix and 8 random characters (for the dev key's seeding path; never the whole). */
export function clientTokenPrefix(secret: string): string {
  return secret.slice(0, secret.length - TOKEN_BODY_CHARS + 8);
}
