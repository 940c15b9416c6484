// npm run soak -- --minutes N [--seed S] [--clients C]: the soak (soak.ts) with a report; exits 1 on
// any error or a clear upward trend in the hub's memory.
process.env.OCFLEET_CREDENTIALS ??= "file";

import { readFileSync } from "node:fs";
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
| RSS least-squares slope after the first fifth | ${report.rssSlopeMbPerMin.toFixed(3)} MB/min (fitted growth ${mb(report.rssFittedGrowthMb)}, mean ${mb(report.rssMeanMb)}) |
| upward trend | ${report.upwardTrend ? "YES" : "no"} |
| deltas timed, model → client (hub's workers) | ${report.deltas} |
| delta latency p50 / p99 / max | ${report.deltaP50Ms.toFixed(1)} / ${report.deltaP99Ms.toFixed(1)} / ${report.deltaMaxMs.toFixed(1)} ms |
| deltas timed (joined machine's worker, link cuts included) | ${report.remoteDeltas}: p50 ${report.remoteDeltaP50Ms.toFixed(1)}, p99 ${report.remoteDeltaP99Ms.toFixed(1)} ms |
| replies completed (local / remote) | ${report.replies} / ${report.remoteReplies} |
| link cuts, client swaps | ${report.linkCuts}, ${report.clientSwaps} |
| remote sends refused while the link was cut | ${report.refusedWhileCut} |
| errors | ${report.errors.length} |`);
for (const e of report.errors.slice(0, 20)) console.log(`  error: ${e}`);
if (values["trace-gc"]) {
  // "Mark-Compact 45.1 (60.2) -> 23.0 (58.1) MB": the live heap after each full collection.
  const after = readFileSync(values["trace-gc"], "utf8")
    .split("\n")
    .map((line) => /Mark-Compact[^>]*-> ([\d.]+) \(/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  console.log(`\nlive heap after each full GC (${after.length}): ${after.map((v) => v.toFixed(1)).join(" ")} MB`);
}
process.exit(report.errors.length > 0 || report.upwardTrend ? 1 : 0);
