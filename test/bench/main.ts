// npm run bench: every benchmark, each against a baseline measured in the same run,
// printed as a table of ratios. Machines here are noisy; ratios travel, absolute numbers don't.
// Benchmarks run against throwaway state directories: keep their sessions out of the real keychain.
process.env.OCFLEET_CREDENTIALS ??= "file";

import * as chat from "./suites/chat.js";
import * as density from "./suites/density.js";
import * as find from "./suites/find.js";
import * as fleet from "./suites/fleet.js";
import * as protocol from "./suites/protocol.js";
import * as remote from "./suites/remote.js";
import * as tui from "./suites/tui.js";
import * as workers from "./suites/workers.js";
import type { BenchRow } from "./measure.js";

const suites: Record<string, { run(): Promise<BenchRow[]> }> = { protocol, workers, chat, tui, fleet, remote, find, density };

function format(value: number, unit: BenchRow["unit"]): string {
  if (unit === "ms") return value < 10 ? `${value.toFixed(3)} ms` : `${value.toFixed(1)} ms`;
  if (unit === "MB") return `${value.toFixed(1)} MB`;
  if (unit === "/s") return `${Math.round(value)}/s`;
  return `${value.toFixed(1)}%`;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const rows: BenchRow[] = [];
  // One suite that fails (an OpenCode that times out on a loaded machine) costs its own rows, not the table.
  const failed: string[] = [];
  for (const [name, suite] of Object.entries(suites)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stderr.write(`running ${name}…\n`);
    try {
      rows.push(...(await suite.run()));
    } catch (err) {
      process.stderr.write(`suite ${name} failed: ${(err as Error).stack ?? err}\n`);
      failed.push(name);
    }
  }
  const table = [
    ["benchmark", "measured", "baseline", "baseline is", "ratio", "aim"],
    ...rows.map((r) => [
      r.name,
      format(r.measured, r.unit),
      format(r.baseline, r.unit),
      r.baselineName,
      `${(r.measured / r.baseline).toFixed(2)}×`,
      r.note ? `${r.target} (${r.note})` : r.target,
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(table[0]!));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of table.slice(1)) console.log(line(row));
  if (failed.length > 0) {
    console.log(`\nfailed suites (no rows above): ${failed.join(", ")}`);
    process.exitCode = 1;
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
