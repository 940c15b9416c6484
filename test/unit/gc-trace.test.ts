// The soak's memory verdict (test/helpers/gc-trace.ts): the live heap after full collections read from
// a real --trace-gc log's lines, and when its fitted line counts as growth.
import { describe, expect, it } from "vitest";
import { liveHeapGrows, parseFullGcs, trend } from "../helpers/gc-trace.js";

const LOG = `2026-11-30T10:47:01.000Z INFO  daemon listening port=40123
[16637:0x24ee6910]      587 ms: Mark-Compact 16.3 (22.5) -> 13.0 (23.5) MB, 9.40 / 0.01 ms  (+ 5.1 ms in 52 steps since start of marking, biggest step 0.2 ms, walltime since start of marking 20 ms) (average mu = 1.000, current mu = 1.000) finalize incremental marking via task; GC in old space requested
[16637:0x24ee6910]     1204 ms: Scavenge 20.1 (24.0) -> 17.2 (24.5) MB, 1.20 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;
[16637:0x24ee6910]    16442 ms: Mark-Compact (reduce) 24.6 (36.2) -> 18.9 (22.0) MB, 103.19 / 0.24 ms  (+ 72.9 ms in 46 steps since start of marking, biggest step 68.5 ms, walltime since start of marking 177 ms) (average mu = 0.989, current mu = 0.989) finalize incremental marking via task; GC in old space requested
[16637:0x24ee6910] Old space,              used:   2476 KB, available:      7 KB, committed:   2528 KB
`;

/** A full collection every 30 s for ten minutes: `base` + growth per minute, with a ±0.5 MB wobble. */
function series(mbPerMinute: number, base = 22): Array<[number, number]> {
  return Array.from({ length: 20 }, (_, i): [number, number] => [120 + i * 24, base + (mbPerMinute * (i * 24)) / 60 + (i % 2 ? 0.5 : -0.5)]);
}

describe("the live heap after full collections", () => {
  it("reads every Mark-Compact line of a --trace-gc log, and nothing else", () => {
    expect(parseFullGcs(LOG)).toEqual([
      { atMs: 587, liveMb: 13 },
      { atMs: 16442, liveMb: 18.9 },
    ]);
  });

  it("calls ~2 MB of growth over eight minutes steady (V8's compiled code grows that much) and 4 MB a leak", () => {
    expect(liveHeapGrows(trend(series(0)))).toBe(false);
    expect(liveHeapGrows(trend(series(0.25)))).toBe(false);
    const leak = trend(series(0.55));
    expect(leak.fittedGrowthMb).toBeGreaterThan(4);
    expect(liveHeapGrows(leak)).toBe(true);
  });

  it("says nothing from fewer than four collections", () => {
    expect(liveHeapGrows(trend(series(2).slice(0, 3)))).toBe(false);
  });
});
