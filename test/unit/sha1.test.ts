// The WebSocket client's own SHA-1 gives the same digests as node:crypto's.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha1Base64 } from "../../src/client/sha1.js";

const nodeSha1 = (input: string | Uint8Array) =>
  createHash("sha1")
    .update(typeof input === "string" ? Buffer.from(input, "latin1") : input)
    .digest("base64");

/** A seeded generator (mulberry32), so a failing input can be reproduced. */
function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe("the WebSocket client's SHA-1", () => {
  it("gives RFC 6455's example accept value for its example key", () => {
    expect(sha1Base64("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("matches FIPS 180-4's examples", () => {
    expect(sha1Base64("")).toBe(Buffer.from("da39a3ee5e6b4b0d3255bfef95601890afd80709", "hex").toString("base64"));
    expect(sha1Base64("abc")).toBe(Buffer.from("a9993e364706816aba3e25717850c26c9cd0d89d", "hex").toString("base64"));
  });

  it("matches node:crypto at the padding edges (55, 56, 63, 64, 65 bytes) and across many blocks", () => {
    for (const length of [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 100_000]) {
      const input = "x".repeat(length);
      expect(sha1Base64(input), `${length} bytes`).toBe(nodeSha1(input));
    }
  });

  it("matches node:crypto for hundreds of seeded random inputs, as bytes and as latin1 strings", () => {
    const random = seededRandom(6455);
    for (let i = 0; i < 400; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256));
      expect(sha1Base64(bytes), `input ${i}`).toBe(nodeSha1(bytes));
      const text = Buffer.from(bytes).toString("latin1");
      expect(sha1Base64(text), `input ${i} as text`).toBe(nodeSha1(bytes));
    }
  });
});
