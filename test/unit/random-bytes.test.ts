// The WebSocket client's random bytes (keys and frame masks) are random from both of their sources.
import { describe, expect, it } from "vitest";
import { fillRandom } from "../../src/client/random-bytes.js";

/** Sixteen 16-byte handshake keys from the given device. */
const keys = (device?: string) => Array.from({ length: 16 }, () => fillRandom(Buffer.alloc(16), device).toString("hex"));

function expectRandom(bytes: Uint8Array): void {
  // In 100,000 random bytes every value turns up (a missing one has odds of about 1 in 10^169),
  // and none takes more than twice its share; a constant, a counter or an unfilled tail fails this.
  const counts = new Array<number>(256).fill(0);
  for (const byte of bytes) counts[byte]!++;
  expect(Math.min(...counts)).toBeGreaterThan(0);
  expect(Math.max(...counts)).toBeLessThan((2 * bytes.length) / 256);
}

describe("the WebSocket client's random bytes", () => {
  it("give sixteen different handshake keys, none of them blank", () => {
    const drawn = keys();
    expect(new Set(drawn).size).toBe(16);
    for (const key of drawn) expect(key).not.toBe("00".repeat(16));
  });

  it("fill a whole large buffer from /dev/urandom", () => {
    expectRandom(fillRandom(new Uint8Array(100_000)));
  });

  it("come from Web Crypto where /dev/urandom cannot be read, in pieces it accepts", () => {
    const missing = "/nonexistent/urandom";
    expect(new Set(keys(missing)).size).toBe(16);
    // Above getRandomValues' 65,536-byte limit for one call.
    expectRandom(fillRandom(new Uint8Array(100_000), missing));
  });
});
