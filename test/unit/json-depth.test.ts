import { describe, expect, it } from "vitest";
import { encodeReport } from "../../src/daemon/hub/outbox.js";
import { capDepth, MAX_FRAME_DEPTH, nestedDeeperThan, parseFrameText, TOO_DEEP_MARKER, TooDeepError } from "../../src/protocol/json-depth.js";
import { Prng } from "../fuzz/generator.js";

/** The nesting of a parsed value, counted the way the scanner counts: each array or object is one level. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce((deepest: number, child) => Math.max(deepest, depthOf(child)), 0);
}

const TRICKY_CHARS = ['"', "\\", "[", "]", "{", "}", "\\[", '\\"', "x", "é", "\u0000", "\n"];

/** Random JSON values whose strings are full of brackets, quotes and backslashes. */
function randomValue(rng: Prng, depth: number): unknown {
  const roll = rng.int(depth > 12 ? 3 : 6);
  if (roll === 0) return rng.int(1000);
  if (roll === 1) return Array.from({ length: rng.int(6) }, () => rng.pick(TRICKY_CHARS)).join("");
  if (roll === 2) return rng.pick([null, true, false]);
  if (roll === 3) return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = rng.int(4); i > 0; i--) object[Array.from({ length: rng.int(3) }, () => rng.pick(TRICKY_CHARS)).join("")] = randomValue(rng, depth + 1);
  return object;
}

describe("nestedDeeperThan", () => {
  it("measures valid JSON exactly, whatever its strings hold (1,000 seeded values)", () => {
    const rng = new Prng(20261130);
    for (let i = 0; i < 1000; i++) {
      const value = randomValue(rng, 0);
      const text = JSON.stringify(value);
      const depth = depthOf(value);
      expect(nestedDeeperThan(text, depth), text).toBe(false);
      if (depth > 0) expect(nestedDeeperThan(text, depth - 1), text).toBe(true);
    }
  });

  it("skips brackets inside strings, after escaped quotes and after escaped backslashes", () => {
    expect(nestedDeeperThan('["[[[[[["]', 1)).toBe(false);
    expect(nestedDeeperThan('["\\"[[[["]', 1)).toBe(false);
    expect(nestedDeeperThan('["\\\\",[[]]]', 2)).toBe(true);
    expect(nestedDeeperThan('{"a\\\\\\"[":[1]}', 1)).toBe(true);
    expect(nestedDeeperThan('{"a\\\\\\"[":1}', 1)).toBe(false);
  });

  it("stops at the limit: 200,000 levels are refused without reading them all", () => {
    const deep = "[".repeat(200_000) + "]".repeat(200_000);
    expect(nestedDeeperThan(deep, MAX_FRAME_DEPTH)).toBe(true);
    expect(() => parseFrameText(deep)).toThrow(TooDeepError);
    expect(() => parseFrameText(deep)).toThrow(`nested deeper than ${MAX_FRAME_DEPTH} levels`);
  });

  it("parses a frame at the limit, and leaves text that is not JSON to JSON.parse", () => {
    const atLimit = "[".repeat(MAX_FRAME_DEPTH) + "]".repeat(MAX_FRAME_DEPTH);
    expect(depthOf(parseFrameText(atLimit))).toBe(MAX_FRAME_DEPTH);
    expect(() => parseFrameText('{"unterminated')).toThrow(SyntaxError);
    expect(() => parseFrameText("{not json")).toThrow(SyntaxError);
  });
});

describe("capDepth and the agent's reports", () => {
  it("replaces only what lies below the limit", () => {
    const value = { a: [1, { b: [2, [3]] }], c: "[[[[" };
    expect(capDepth(value, 10)).toEqual(value);
    expect(capDepth(value, 3)).toEqual({ a: [1, { b: TOO_DEEP_MARKER }], c: "[[[[" });
    expect(depthOf(capDepth(value, 3))).toBeLessThanOrEqual(3);
  });

  it("sends a report as it is unless the hub would refuse it; a model's over-deep tool input is cut, the report kept", () => {
    const shallow = { type: "worker.event", workerId: "wrk_1", event: { part: { state: { input: { path: "a" } } } } };
    expect(encodeReport(shallow as never)).toEqual({ json: JSON.stringify(shallow), cut: false });
    let input: unknown = "bottom";
    for (let i = 0; i < 400; i++) input = { nested: input };
    const deep = { type: "worker.event", workerId: "wrk_1", event: { part: { id: "prt_1", state: { input } } } };
    const { json: body, cut } = encodeReport(deep as never);
    expect(cut).toBe(true);
    // The frame the dialer sends wraps the body once more; the hub must accept it.
    const frame = `{"t":"report","seq":1,"report":${body}}`;
    expect(nestedDeeperThan(frame, MAX_FRAME_DEPTH)).toBe(false);
    expect(JSON.parse(body)).toMatchObject({ type: "worker.event", workerId: "wrk_1", event: { part: { id: "prt_1" } } });
    expect(body).toContain(TOO_DEEP_MARKER);
  });
});
