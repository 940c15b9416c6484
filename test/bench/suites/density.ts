// Worker density: the memory of a machine's whole fleet (the daemon and every OpenCode process) with
// 1, 5 and 10 workers that share one OpenCode process, against the same workers each in its own
// (`--isolated`); and `worker add` to idle for a machine's second worker, shared against isolated.
// Every worker answers one prompt before it is measured: an OpenCode that has answered holds more.
import { readFileSync } from "node:fs";
import type { FleetConnection } from "../../../src/client/connection.js";
import { connectToDaemon } from "../../../src/client/daemon.js";
import { descendantsOf } from "../../../src/platform/processes.js";
import { api, type WorkerView } from "../../../src/protocol/api/index.js";
import { cleanupHomes, createHome } from "../../helpers/daemon.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../../helpers/opencode.js";
import { median, type BenchRow } from "../measure.js";

const COUNTS = [1, 5, 10];
const ADD_ROUNDS = 3;
const step = (what: string) => process.env.OCFLEET_BENCH_VERBOSE && process.stderr.write(`  density bench: ${what}\n`);

function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The daemon's RSS plus that of every OpenCode process its workers run (and their children). */
async function fleetRss(client: FleetConnection): Promise<number> {
  const status = await client.call(api.daemon.status, {});
  const pids = new Set<number>([status.pid]);
  for (const worker of await client.call(api.workers.list, {})) {
    if (worker.pid === null) continue;
    pids.add(worker.pid);
    for (const child of descendantsOf(worker.pid)) pids.add(child.pid);
  }
  return [...pids].reduce((sum, pid) => sum + rssOf(pid), 0);
}

function settled(client: FleetConnection, id: string): Promise<WorkerView> {
  return new Promise((resolve, reject) => {
    const sub = client.subscribe(
      api.workers.get,
      { worker: id },
      {
        onValue: (w) => {
          if (w.runState === "idle") sub.unsubscribe(), resolve(w);
          else if (w.runState === "error") sub.unsubscribe(), reject(new Error(w.reason ?? "worker failed"));
        },
      },
    );
  });
}

/** One prompt on a new chat of the worker, answered. */
async function answerOne(client: FleetConnection, worker: string): Promise<void> {
  const chat = await client.call(api.chat.create, { worker });
  const { messageId } = await client.call(api.chat.send, { chat: chat.id, text: "hello there, say something back" });
  await new Promise<void>((resolve, reject) => {
    const sub = client.subscribe(
      api.chat.messages,
      { chat: chat.id },
      {
        onValue: (messages) => {
          const reply = messages.find((m) => m.replyTo === messageId && m.status !== "streaming");
          if (!reply) return;
          sub.unsubscribe();
          if (reply.status === "completed") resolve();
          else reject(new Error(`the reply ended ${reply.status}`));
        },
      },
    );
  });
}

async function addWorker(client: FleetConnection, sandbox: OpencodeSandbox, name: string, isolated: boolean): Promise<string> {
  // One overlay for all: the same user's keys and HOME, as on a laptop.
  const added = await client.call(api.workers.add, { directory: sandbox.project(name), name, env: sandbox.env("fleet"), ...(isolated ? { isolated } : {}) });
  await settled(client, added.id);
  return added.id;
}

async function removeAll(client: FleetConnection): Promise<void> {
  for (const worker of await client.call(api.workers.list, {})) await client.call(api.workers.remove, { worker: worker.id });
}

/** Total RSS at each count of workers, adding workers one by one, each answering a prompt. */
async function rssCurve(client: FleetConnection, sandbox: OpencodeSandbox, isolated: boolean): Promise<Map<number, number>> {
  const curve = new Map<number, number>();
  const label = isolated ? "isolated" : "shared";
  for (let n = 1; n <= Math.max(...COUNTS); n++) {
    const id = await addWorker(client, sandbox, `${label}-${n}`, isolated);
    await answerOne(client, id);
    if (COUNTS.includes(n)) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      curve.set(n, await fleetRss(client));
      step(`${label}, ${n} workers: ${(curve.get(n)! / 1e6).toFixed(0)} MB`);
    }
  }
  await removeAll(client);
  return curve;
}

/** `worker add` to idle of the second worker on a machine whose first one runs. */
async function secondAdd(client: FleetConnection, sandbox: OpencodeSandbox, isolated: boolean): Promise<number> {
  const label = isolated ? "own" : "joins";
  const first = await addWorker(client, sandbox, `${label}-first`, false);
  const times: number[] = [];
  for (let round = 0; round < ADD_ROUNDS; round++) {
    const start = performance.now();
    const id = await addWorker(client, sandbox, `${label}-second-${round}`, isolated);
    times.push(performance.now() - start);
    await client.call(api.workers.remove, { worker: id });
  }
  await client.call(api.workers.remove, { worker: first });
  step(`second worker add, ${label}: ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
  return median(times);
}

export async function run(): Promise<BenchRow[]> {
  const sandbox = await createOpencodeSandbox();
  const home = createHome("ocf-bench-density-");
  try {
    const client = await connectToDaemon({ home, autoStart: true });
    const shared = await rssCurve(client, sandbox, false);
    const isolated = await rssCurve(client, sandbox, true);
    const rows: BenchRow[] = COUNTS.map((n) => ({
      name: `total RSS, ${n} worker${n > 1 ? "s" : ""} sharing a process`,
      measured: shared.get(n)! / 1e6,
      baseline: isolated.get(n)! / 1e6,
      baselineName: `${n} isolated`,
      unit: "MB",
      target: n === 10 ? "≤ 1500 MB" : "less",
    }));
    const joins = await secondAdd(client, sandbox, false);
    const own = await secondAdd(client, sandbox, true);
    rows.push({
      name: "`worker add` to idle, second worker, shared",
      measured: joins,
      baseline: own,
      baselineName: "the same, --isolated",
      unit: "ms",
      target: "≤ 0.3×",
    });
    client.close();
    return rows;
  } finally {
    await cleanupHomes();
    await sandbox.close();
  }
}
