import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { constantTimeEqual, newId, randomString, randomToken, SecretKeeper } from "../../src/daemon/crypto.js";
import { looksLikeId } from "../../src/protocol/ids.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ocf-crypto-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe("crypto helpers", () => {
  it("make ids with their type prefix, each one different", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId("checklist")));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(looksLikeId("checklist", id)).toBe(true);
    expect(looksLikeId("user", newId("checklist"))).toBe(false);
  });

  it("draw random strings only from the alphabet, without bias", () => {
    const counts = new Map<string, number>();
    const text = randomString(60_000, "abc");
    for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(["a", "b", "c"]);
    for (const n of counts.values()) expect(Math.abs(n - 20_000)).toBeLessThan(800);
  });

  it("make tokens of the asked entropy, url-safe", () => {
    const token = randomToken(32);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("compare strings in constant time, correctly", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
  });

  it("create the key file with mode 0600 and reuse it", () => {
    const path = join(tempDir(), "secret.key");
    const first = SecretKeeper.loadOrCreate(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const sealed = first.encrypt("client-secret");
    expect(sealed).not.toContain("client-secret");
    expect(SecretKeeper.loadOrCreate(path).decrypt(sealed)).toBe("client-secret");
  });

  it("refuse a key file that other users can read", () => {
    const path = join(tempDir(), "secret.key");
    writeFileSync(path, randomBytes(32).toString("base64"), { mode: 0o644 });
    expect(() => SecretKeeper.loadOrCreate(path)).toThrow(/readable by other users/);
  });

  it("detect a tampered or foreign ciphertext", () => {
    const keeper = SecretKeeper.fromKey(Buffer.alloc(32, 1));
    const sealed = keeper.encrypt("secret");
    const raw = Buffer.from(sealed.slice(3), "base64");
    raw[raw.length - 1]! ^= 1;
    expect(() => keeper.decrypt(`v1:${raw.toString("base64")}`)).toThrow();
    expect(() => SecretKeeper.fromKey(Buffer.alloc(32, 2)).decrypt(sealed)).toThrow();
    expect(keeper.encrypt("secret")).not.toBe(sealed); // a fresh IV every time
  });

  it("digest codes with the key, so the digest is useless without the key file", () => {
    const a = SecretKeeper.fromKey(Buffer.alloc(32, 1));
    const b = SecretKeeper.fromKey(Buffer.alloc(32, 2));
    const stored = a.digest("ABCD1234");
    expect(stored).not.toBe(b.digest("ABCD1234"));
    expect(a.matches("ABCD1234", stored)).toBe(true);
    expect(a.matches("ABCD1235", stored)).toBe(false);
    expect(a.matches("ABCD1234", "not-hex")).toBe(false);
  });
});
