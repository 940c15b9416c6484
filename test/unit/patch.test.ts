import { describe, expect, it } from "vitest";
import { applyPatch, diff, jsonEqual } from "../../src/protocol/patch.js";

/** A small deterministic PRNG so a failure can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomJson(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 4 : 6));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return Math.floor(rand() * 100);
    case 3:
      return "abcdef".slice(0, Math.floor(rand() * 6));
    case 4:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomJson(rand, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      for (const key of ["a", "b", "c", "d"]) if (rand() < 0.5) obj[key] = randomJson(rand, depth + 1);
      return obj;
    }
  }
}

/** A value derived from `base` by a few random edits, so diffs are realistic, not total replacements. */
function mutate(rand: () => number, value: unknown): unknown {
  if (rand() < 0.15) return randomJson(rand);
  if (typeof value === "string") return rand() < 0.5 ? value + "xyz".slice(0, 1 + Math.floor(rand() * 3)) : value;
  if (Array.isArray(value)) {
    const copy = value.map((v) => (rand() < 0.3 ? mutate(rand, v) : v));
    if (rand() < 0.3) copy.push(randomJson(rand, 2));
    if (rand() < 0.2) copy.pop();
    return copy;
  }
  if (value && typeof value === "object") {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (rand() > 0.1) copy[k] = rand() < 0.4 ? mutate(rand, v) : v;
    if (rand() < 0.3) copy.e = randomJson(rand, 2);
    return copy;
  }
  return value;
}

describe("JSON patches", () => {
  it("turn any value into any other (1000 random pairs)", () => {
    const rand = prng(42);
    for (let i = 0; i < 1000; i++) {
      const before = randomJson(rand);
      const after = mutate(rand, before);
      const snapshot = JSON.stringify(before);
      const patched = applyPatch(before, diff(before, after));
      expect(jsonEqual(patched, after), `case ${i}: ${snapshot} -> ${JSON.stringify(after)}`).toBe(true);
      expect(JSON.stringify(before)).toBe(snapshot); // the input is never mutated
    }
  });

  it("is empty for equal values", () => {
    expect(diff({ a: [1, { b: "x" }] }, { a: [1, { b: "x" }] })).toEqual([]);
  });

  it("uses append for strings that grow and push for arrays that grow", () => {
    expect(diff({ t: "ab", l: [1] }, { t: "abcd", l: [1, 2, 3] })).toEqual([
      { op: "append", path: ["t"], text: "cd" },
      { op: "push", path: ["l"], items: [2, 3] },
    ]);
  });

  it("replaces a string that changed in the middle", () => {
    expect(diff("abc", "axc")).toEqual([{ op: "set", path: [], value: "axc" }]);
  });

  it("copies only the containers along a changed path", () => {
    const before = { left: { n: 1 }, right: { s: "a" } };
    const after = applyPatch(before, [{ op: "append", path: ["right", "s"], text: "b" }]) as typeof before;
    expect(after.left).toBe(before.left);
    expect(after.right).not.toBe(before.right);
  });

  it("refuses a patch whose path does not exist", () => {
    expect(() => applyPatch({}, [{ op: "append", path: ["missing", "x"], text: "!" }])).toThrow(/does not exist/);
  });
});
