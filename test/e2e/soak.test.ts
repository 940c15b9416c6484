// The soak (test/soak/soak.ts) cut short and seeded, so `npm run soak` cannot rot: real OpenCode
// workers streaming, clients coming and going, the joined machine's link cut three times; the hub's
// GC trace read, and every client's connection and subscription gone from the hub once it closed.
import { describe, expect, it } from "vitest";
import { runSoak } from "../soak/soak.js";

describe("a short soak", () => {
  it("streams to every client through link cuts and client churn with no errors", async () => {
    const report = await runSoak({ minutes: 0.5, seed: 16, clients: 20, linkCutEveryMs: 9000, churnEveryMs: 300, sampleEveryMs: 1000 });
    expect(report.errors).toEqual([]);
    expect(report.replies).toBeGreaterThan(0);
    expect(report.remoteReplies).toBeGreaterThan(0);
    expect(report.linkCuts).toBeGreaterThanOrEqual(2);
    expect(report.clientSwaps).toBeGreaterThan(10);
    expect(report.deltas).toBeGreaterThan(100);
    expect(report.remoteDeltas).toBeGreaterThan(0);
    expect(Number.isFinite(report.deltaP99Ms)).toBe(true);
    expect(report.rss.length).toBeGreaterThan(5);
    // Thirty seconds is too short for a trend (judged from two minutes on), not for the trace it is read from.
    expect(report.liveHeap.length).toBeGreaterThan(0);
    expect(report.connectionsAtEnd.open.connections).toBeGreaterThan(20);
    expect(report.connectionsAtEnd.closed).toEqual({ connections: 1, subscriptions: 0 });
  }, 240_000);
});
