// Tokens, ids, codes, digests and encryption of stored secrets. Every random value comes from
// crypto.randomBytes; nothing secret is stored in plain text.
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { ID_PREFIXES, type Id, type IdKind } from "../protocol/ids.js";
import { writePrivateFileAtomic } from "../platform/files.js";

/** Lowercase Crockford base32 without i, l, o, u: easy to read aloud and to type. */
const ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** An opaque bearer token, base64url, `bytes` of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** A uniformly random string over `alphabet`, by rejection sampling (no modulo bias). */
export function randomString(length: number, alphabet: string): string {
  if (alphabet.length < 2 || alphabet.length > 256) throw new Error("alphabet must have 2 to 256 characters");
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue;
      out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function newId<K extends IdKind>(kind: K): Id<(typeof ID_PREFIXES)[K]> {
  return `${ID_PREFIXES[kind]}_${randomString(16, ID_ALPHABET)}` as Id<(typeof ID_PREFIXES)[K]>;
}

/** Compares two strings in time that depends only on their lengths' digests, not their contents. */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a, "utf8").digest();
  const db = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(da, db);
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const CIPHER_VERSION = "v1";

/**
 * The daemon's secret key (a 0600 file outside the database) and what it protects:
 * AES-256-GCM encryption of secrets that must be read back, and keyed digests of tokens
 * and codes, so a copy of state.db alone is not enough to brute-force a short code.
 */
export class SecretKeeper {
  private readonly encryptionKey: Buffer;
  private readonly digestKey: Buffer;

  private constructor(master: Buffer) {
    this.encryptionKey = Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), "ocfleet encryption", KEY_BYTES));
    this.digestKey = Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), "ocfleet digest", KEY_BYTES));
  }

  /** Loads the key file, creating it on first use. Refuses a key file that others can read. */
  static loadOrCreate(path: string): SecretKeeper {
    if (!existsSync(path)) writePrivateFileAtomic(path, randomBytes(KEY_BYTES).toString("base64") + "\n");
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(`${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
    }
    const master = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
    if (master.length !== KEY_BYTES) throw new Error(`${path} does not hold a ${KEY_BYTES}-byte key`);
    return new SecretKeeper(master);
  }

  static fromKey(master: Buffer): SecretKeeper {
    if (master.length !== KEY_BYTES) throw new Error(`the key must be ${KEY_BYTES} bytes`);
    return new SecretKeeper(master);
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.encryptionKey, iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return `${CIPHER_VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
  }

  /** Throws if the ciphertext was altered or was made with another key. */
  decrypt(sealed: string): string {
    const [version, payload] = sealed.split(":", 2);
    if (version !== CIPHER_VERSION || !payload) throw new Error("unknown secret format");
    const raw = Buffer.from(payload, "base64");
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error("secret is truncated");
    const decipher = createDecipheriv("aes-256-gcm", this.encryptionKey, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
  }

  /** A keyed digest (HMAC-SHA256, hex) to store instead of a token or code. */
  digest(value: string): string {
    return createHmac("sha256", this.digestKey).update(value, "utf8").digest("hex");
  }

  /** Whether `value` is the one whose digest is `storedDigest`, compared in constant time. */
  matches(value: string, storedDigest: string): boolean {
    const actual = Buffer.from(this.digest(value), "hex");
    const expected = Buffer.from(storedDigest, "hex");
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}
