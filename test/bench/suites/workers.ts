// Worker benchmarks: how long `worker add` takes to reach idle next to OpenCode's own start-up,
// and what the daemon costs in memory, alone and supervising ten workers.
import { spawn } from "node:child_process";
import { connectToDaemon } from "../../../src/client/daemon.js";
import { resolveOpencodeBinary } from "../../../src/daemon/agent/opencode.js";
import { api, type WorkerView } from "../../../src/protocol/api/index.js";
import type { FleetConnection } from "../../../src/client/connection.js";
import { cleanupHomes, createHome } from "../../helpers/daemon.js";
import { createOpencodeSandbox } from "../../helpers/opencode.js";
import { median, type BenchRow } from "../measure.js";

const ROUNDS = 3;
/** The figure: the daemon's memory while it supervises ten workers. */
const RSS_WORKERS = 10;

/** The RSS of a Node.js process that has loaded nothing, after a second of idling. */
function bareNodeRss(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => console.log(process.memoryUsage.rss()), 1000)"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += String(chunk)));
    child.on("error", reject);
    child.on("exit", () => resolve(Number(out.trim())));
  });
}

/** Starts `opencode serve` directly and times it to its "listening" line. */
function opencodeToListening(cwd: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(resolveOpencodeBinary().path, ["serve", "--hostname", "127.0.0.1", "--port", "0"], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const onData = (chunk: Buffer) => {
      if (/listening on http/.test(String(chunk))) {
        const elapsed = performance.now() - start;
        child.kill("SIGKILL");
        resolve(elapsed);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
  });
}

/**
 * The daemon's RSS as `top` would show it once it has settled: the median of five samples a second
 * apart (one sample can land just before or after a collection).
 */
async function settledRss(client: FleetConnection): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    samples.push((await client.call(api.daemon.status, {})).rssBytes);
  }
  return median(samples);
}

function waitIdle(client: FleetConnection, id: string): Promise<WorkerView> {
  return new Promise((resolve, reject) => {
    const sub = client.subscribe(
      api.workers.get,
      { worker: id },
      {
        onValue: (w) => {
          if (w.runState === "idle") {
            sub.unsubscribe();
            resolve(w);
          } else if (w.runState === "error") reject(new Error(w.reason ?? "worker failed"));
        },
      },
    );
  });
}

export async function run(): Promise<BenchRow[]> {
  const sandbox = await createOpencodeSandbox();
  const home = createHome("ocf-bench-workers-");
  try {
    const client = await connectToDaemon({ home, autoStart: true });
    const direct: number[] = [];
    const viaDaemon: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dir = sandbox.project(`direct-${round}`);
      direct.push(await opencodeToListening(dir, sandbox.env(`direct-${round}`)));
      const start = performance.now();
      const added = await client.call(api.workers.add, { directory: sandbox.project(`fleet-${round}`), env: sandbox.env(`fleet-${round}`) });
      await waitIdle(client, added.id);
      viaDaemon.push(performance.now() - start);
      await client.call(api.workers.remove, { worker: added.id });
    }
    const rows: BenchRow[] = [
      {
        name: "`worker add` until idle (median)",
        measured: median(viaDaemon),
        baseline: median(direct),
        baselineName: "opencode serve to its listening line",
        unit: "ms",
        target: "ready + health + models",
      },
    ];

    // Memory: the daemon alone, then with ten workers running (OpenCode's own RSS not counted),
    // each against a Node.js process that has loaded nothing.
    const bareRss = await bareNodeRss();
    const idle = await settledRss(client);
    rows.push({
      name: "daemon RSS, no workers",
      measured: idle / 1e6,
      baseline: bareRss / 1e6,
      baselineName: "node, idle, nothing loaded",
      unit: "MB",
      target: "≤ 80 MB",
    });
    // Two at a time: ten OpenCode processes starting at once on a loaded 2-core machine time out.
    const ids: string[] = [];
    for (let i = 0; i < RSS_WORKERS; i += 2) {
      const batch = [i, i + 1].map(async (n) => {
        const added = await client.call(api.workers.add, { directory: sandbox.project(`rss-${n}`), env: sandbox.env(`rss-${n}`) });
        await waitIdle(client, added.id);
        return added.id;
      });
      ids.push(...(await Promise.all(batch)));
    }
    const withWorkers = await settledRss(client);
    rows.push({
      name: `daemon RSS with ${RSS_WORKERS} workers`,
      measured: withWorkers / 1e6,
      baseline: idle / 1e6,
      baselineName: "daemon RSS with none",
      unit: "MB",
      target: "≤ 80 MB",
    });
    for (const id of ids) await client.call(api.workers.remove, { worker: id });
    client.close();
    return rows;
  } finally {
    await cleanupHomes();
    await sandbox.close();
  }
}
