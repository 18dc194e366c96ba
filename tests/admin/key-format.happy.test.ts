import { describe, expect, it } from "vitest";
import {
  checksum,
  crc32,
  generateApiKey,
  hashApiKey,
  keyPrefix,
  newAccountId,
  parseApiKey,
  toBase62,
} from "../../worker/accounts/keys/key-format";

describe("API key format", () => {
  it("computes the standard CRC32", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  it("round-trips mode and account through the key", () => {
    const accountId = newAccountId();
    for (const mode of ["live", "test"] as const) {
      const key = generateApiKey(accountId, mode);
      expect(key).toMatch(mode === "live" ? /^limo_sk_[0-9A-Za-z]{65}$/ : /^limo_test_[0-9A-Za-z]{65}$/);
      expect(parseApiKey(key)).toEqual({ mode, accountId });
    }
  });

  it("carries at least 32 random bytes: no two keys share their random part", () => {
    const accountId = newAccountId();
    const randoms = new Set(Array.from({ length: 200 }, () => generateApiKey(accountId, "live").slice(8, 51)));
    expect(randoms.size).toBe(200);
    expect(toBase62(2n ** 256n - 1n, 43)).toHaveLength(43);
  });

  it("rejects every single-character typo through the checksum", () => {
    const key = generateApiKey(newAccountId(), "live");
    for (let i = 8; i < key.length; i++) {
      const replacement = key[i] === "Z" ? "Y" : "Z";
      expect(parseApiKey(key.slice(0, i) + replacement + key.slice(i + 1))).toBeNull();
    }
  });

  it("rejects other shapes", () => {
    const key = generateApiKey(newAccountId(), "live");
    for (const bad of ["", "limo_sk_", key.slice(0, -1), `${key}0`, key.replace("limo_sk_", "limo_test_"), ` ${key}`, key.replace(/.$/, "-")]) {
      expect(parseApiKey(bad)).toBeNull();
    }
  });

  it("shows a prefix of 8 random characters, never the account routing part", () => {
    const accountId = newAccountId();
    const key = generateApiKey(accountId, "live");
    expect(keyPrefix(key)).toBe(key.slice(0, 16));
    expect(keyPrefix(key)).not.toContain(accountId.slice(5, 9));
    expect(keyPrefix("limo_dev_local_key_do_not_use")).toBe("limo_de");
    expect(keyPrefix("short")).toBe("s");
  });

  it("hashes with SHA-256 in hex", async () => {
    expect(await hashApiKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(checksum("x")).toHaveLength(6);
  });
});
