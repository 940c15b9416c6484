// npm run soak -- --minutes N [--seed S] [--clients C] [--trace-gc FILE]: the soak (soak.ts) with a report;
// exits 1 on any error or an upward trend in the hub's live heap after full collections.
process.env.OCFLEET_CREDENTIALS ??= "file";

import { parseArgs } from "node:util";
import { runSoak } from "./soak.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    seed: { type: "string" },
    clients: { type: "string", default: "50" },
    "link-cut-every": { type: "string", default: "60" },
    "trace-gc": { type: "string" },
  },
});
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const minutes = Number(values.minutes);
console.log(`soak: ${minutes} min, seed ${seed} (replay with --seed ${seed})`);

const report = await runSoak({
  minutes,
  seed,
  clients: Number(values.clients),
  linkCutEveryMs: Number(values["link-cut-every"]) * 1000,
  traceGcTo: values["trace-gc"],
  log: (line) => console.log(`  ${line}`),
});

const mb = (n: number) => `${n.toFixed(1)} MB`;
console.log("\nhub RSS over time (s → MB):");
const step = Math.max(1, Math.ceil(report.rss.length / 20));
console.log(
  report.rss
    .filter((_, i) => i % step === 0 || i === report.rss.length - 1)
    .map(([t, v]) => `${t.toFixed(0)}s ${v.toFixed(1)}`)
    .join(" · "),
);
const first = report.rss[0]?.[1] ?? Number.NaN;
const last = report.rss.at(-1)?.[1] ?? Number.NaN;
console.log(`
| figure | value |
|---|---|
| duration, seed | ${minutes} min, ${seed} |
| hub RSS first → last sample | ${mb(first)} → ${mb(last)} (${report.rss.length} samples) |
| RSS least-squares slope after the first fifth (information: mostly garbage awaiting collection) | ${report.rssTrend.slopeMbPerMin.toFixed(3)} MB/min (fitted growth ${mb(report.rssTrend.fittedGrowthMb)}, mean ${mb(report.rssTrend.meanMb)}) |
| live heap after each full GC (s → MB) | ${report.liveHeap.map(([t, v]) => `${t.toFixed(0)}s ${v.toFixed(1)}`).join(" · ")} |
| live heap's slope after the first fifth | ${report.liveHeapTrend.slopeMbPerMin.toFixed(3)} MB/min over ${report.liveHeapTrend.points} collections (fitted growth ${mb(report.liveHeapTrend.fittedGrowthMb)}, mean ${mb(report.liveHeapTrend.meanMb)}) |
| upward trend (live heap grows > max(3 MB, 15 % of its mean)) | ${report.upwardTrend ? "YES" : "no"} |
| hub connections / subscriptions: load's end → every client closed | ${report.connectionsAtEnd.open.connections} / ${report.connectionsAtEnd.open.subscriptions} → ${report.connectionsAtEnd.closed.connections} / ${report.connectionsAtEnd.closed.subscriptions} |
| deltas timed, model → client (hub's workers) | ${report.deltas} |
| delta latency p50 / p99 / max | ${report.deltaP50Ms.toFixed(1)} / ${report.deltaP99Ms.toFixed(1)} / ${report.deltaMaxMs.toFixed(1)} ms |
| deltas timed (joined machine's worker, link cuts included) | ${report.remoteDeltas}: p50 ${report.remoteDeltaP50Ms.toFixed(1)}, p99 ${report.remoteDeltaP99Ms.toFixed(1)} ms |
| replies completed (local / remote) | ${report.replies} / ${report.remoteReplies} |
| link cuts, client swaps | ${report.linkCuts}, ${report.clientSwaps} |
| remote sends refused while the link was cut | ${report.refusedWhileCut} |
| errors | ${report.errors.length} |`);
for (const e of report.errors.slice(0, 20)) console.log(`  error: ${e}`);
process.exit(report.errors.length > 0 || report.upwardTrend ? 1 : 0);
