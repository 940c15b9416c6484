// TUI start-up: from launching `ocfleet` in a real terminal to its first full frame (the fleet
// with the status bar connected), against `node -e 0` in the same kind of terminal.
import { connectToDaemon } from "../../../src/client/daemon.js";
import { cleanupHomes, createHome } from "../../helpers/daemon.js";
import { startPty } from "../../helpers/pty.js";
import { median, type BenchRow } from "../measure.js";

const ROUNDS = 7;

async function firstFrame(home: string): Promise<number> {
  const start = performance.now();
  const term = startPty([], { env: { ...process.env, OCFLEET_HOME: home }, cols: 120, rows: 32 });
  const seen = term.firstSeen(/\(here\)[\s\S]*● connected/);
  const at = await Promise.race([seen, new Promise<number>((_, reject) => setTimeout(() => reject(new Error("no first frame in 20 s")), 20_000))]);
  term.write("q");
  await term.exited;
  return at - start;
}

async function bareNode(): Promise<number> {
  const start = performance.now();
  const term = startPty(["-e", "0"], { env: process.env, command: process.execPath });
  await term.exited;
  return performance.now() - start;
}

export async function run(): Promise<BenchRow[]> {
  const home = createHome("ocf-bench-tui-");
  try {
    (await connectToDaemon({ home, autoStart: true })).close();
    await firstFrame(home); // warm the file cache and the daemon
    const tui: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      tui.push(await firstFrame(home));
      bare.push(await bareNode());
    }
    const baseline = median(bare);
    return [
      {
        name: "TUI: launch to first full frame (median)",
        measured: median(tui),
        baseline,
        baselineName: "node -e 0 in a PTY",
        unit: "ms",
        target: `< 2× + 150 ms (${(2 * baseline + 150).toFixed(0)} ms)`,
      },
    ];
  } finally {
    await cleanupHomes();
  }
}
