/**
 * @module key-format
 * The API key format, ids, and hashing. Pure functions (Web Crypto only), so
 * the hot path can reject a typo'd or forged key before touching storage.
 *
 * A key is `limo_sk_` (live) or `limo_test_` (test) followed by 65 base62
 * characters:
 *
 *   random (43: 32 bytes) | account routing part (16) | CRC32 checksum (6)
 *
 * The random part comes first so the visible prefix tells keys apart without
 * revealing which account they belong to. The routing part is the account
 * id's suffix: the Worker goes straight to that account's Durable Object with
 * no lookup. The checksum (over everything before it, as GitHub's tokens do)
 * lets us and secret scanners recognise a real key offline.
 */
import type { KeyMode } from "../../../shared/admin";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Random bytes in a key, and their length in base62 (62^43 > 2^256). */
const KEY_RANDOM_BYTES = 32;
const KEY_RANDOM_CHARS = 43;
/** Characters of an account id after `acct_`; also the key's routing part. */
export const ACCOUNT_ROUTING_CHARS = 16;
/** CRC32 in base62 (62^6 > 2^32). */
const KEY_CHECKSUM_CHARS = 6;
const KEY_BODY_CHARS = KEY_RANDOM_CHARS + ACCOUNT_ROUTING_CHARS + KEY_CHECKSUM_CHARS;
/** How much of the random part the stored, visible prefix shows (~48 of 256 bits). */
const KEY_PREFIX_BODY_CHARS = 8;

export const KEY_PREFIXES: Record<KeyMode, string> = { live: "limo_sk_", test: "limo_test_" };
const KEY_PATTERN = new RegExp(`^limo_(sk|test)_([0-9A-Za-z]{${KEY_BODY_CHARS}})$`);

export const ACCOUNT_ID_PREFIX = "acct_";
export const KEY_ID_PREFIX = "key_";

/** `count` uniformly random base62 characters (rejection sampling: no modulo bias). */
export function randomBase62(count: number): string {
  let out = "";
  while (out.length < count) {
    for (const byte of crypto.getRandomValues(new Uint8Array(count * 2))) {
      // 248 = 4 * 62: bytes at or above it would favour the first characters.
      if (byte < 248 && out.length < count) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** Encodes a non-negative integer in base62, left-padded to `width`. */
export function toBase62(value: bigint, width: number): string {
  let out = "";
  let rest = value;
  while (rest > 0n) {
    out = BASE62[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out.padStart(width, "0");
}

export function newAccountId(): string {
  return ACCOUNT_ID_PREFIX + randomBase62(ACCOUNT_ROUTING_CHARS);
}

export function newKeyId(): string {
  return KEY_ID_PREFIX + randomBase62(ACCOUNT_ROUTING_CHARS);
}

/** Whether `id` has the shape of an account id that keys can route to. */
export function isRoutableAccountId(id: string): boolean {
  return new RegExp(`^${ACCOUNT_ID_PREFIX}[0-9A-Za-z]{${ACCOUNT_ROUTING_CHARS}}$`).test(id);
}

/** A new secret for an account (whose id must be routable). */
export function generateApiKey(accountId: string, mode: KeyMode): string {
  if (!isRoutableAccountId(accountId)) throw new Error(`account id ${accountId} cannot carry keys`);
  const bytes = crypto.getRandomValues(new Uint8Array(KEY_RANDOM_BYTES));
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  const head = KEY_PREFIXES[mode] + toBase62(value, KEY_RANDOM_CHARS) + accountId.slice(ACCOUNT_ID_PREFIX.length);
  return head + checksum(head);
}

export interface ParsedApiKey {
  mode: KeyMode;
  accountId: string;
}

/** The mode and account of a well-formed key with a valid checksum, else null. */
export function parseApiKey(secret: string): ParsedApiKey | null {
  const match = KEY_PATTERN.exec(secret);
  if (!match) return null;
  const body = match[2]!;
  const head = secret.slice(0, secret.length - KEY_CHECKSUM_CHARS);
  if (checksum(head) !== body.slice(-KEY_CHECKSUM_CHARS)) return null;
  const routing = body.slice(KEY_RANDOM_CHARS, KEY_RANDOM_CHARS + ACCOUNT_ROUTING_CHARS);
  return { mode: match[1] === "sk" ? "live" : "test", accountId: ACCOUNT_ID_PREFIX + routing };
}

/** The part of a secret we may store and show: its mode prefix and a few random characters. */
export function keyPrefix(secret: string): string {
  const parsed = KEY_PATTERN.exec(secret);
  if (parsed) return secret.slice(0, secret.length - KEY_BODY_CHARS + KEY_PREFIX_BODY_CHARS);
  // Not our format (DEV_API_KEY): show at most a quarter of it, and never more than 12 characters.
  return secret.slice(0, Math.min(12, Math.floor(secret.length / 4)));
}

/** SHA-256 of the secret, hex: the only form of it we store. */
export async function hashApiKey(secret: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** CRC32 (IEEE) of `text`, base62 and fixed width. */
export function checksum(text: string): string {
  return toBase62(BigInt(crc32(new TextEncoder().encode(text))), KEY_CHECKSUM_CHARS);
}

let crcTable: Uint32Array | undefined;

export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
