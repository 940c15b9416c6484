// One real remote worker against a local one: two daemons (a hub, and a machine joined to it over
// the TLS link, each its own OCFLEET_HOME, as test/e2e/remote-worker.test.ts sets them up), real
// OpenCode with the fake model on both, and the delta latency a client of the hub sees from each.
import type { FleetConnection } from "../../../src/client/connection.js";
import { api, type WorkerView } from "../../../src/protocol/api/index.js";
import { cleanupHomes, connect, createHome, runCli } from "../../helpers/daemon.js";
import { enableHub, invite } from "../../helpers/hub-net.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../../helpers/opencode.js";
import { replyEnded, TimedChat } from "../delta-timing.js";
import { percentile, type BenchRow } from "../measure.js";

const CHUNKS = 150;
const ROUNDS = 3;

const step = (what: string) => process.env.OCFLEET_BENCH_VERBOSE && process.stderr.write(`  remote bench: ${what}\n`);

async function untilIdle(client: FleetConnection, worker: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const sub = client.subscribe(
      api.workers.get,
      { worker },
      { onValue: (w: WorkerView) => w.runState === "idle" && (queueMicrotask(() => sub.unsubscribe()), resolve()) },
    );
  });
}

export async function run(): Promise<BenchRow[]> {
  let sandbox: OpencodeSandbox | undefined;
  const clients: FleetConnection[] = [];
  try {
    sandbox = await createOpencodeSandbox();
    const hub = createHome("ocf-bench-hub-");
    const machine = createHome("ocf-bench-agent-");
    await enableHub(hub);
    const joined = await runCli(machine, ["machine", "join", await invite(hub, { approve: true, name: "far" })]);
    if (joined.code !== 0) throw new Error(`the machine did not join: ${joined.stderr}`);
    const client = await connect(hub);
    clients.push(client);
    const local = await client.call(api.workers.add, { directory: sandbox.project("near"), name: "near", env: sandbox.env("near") });
    const remote = await client.call(api.workers.add, { directory: sandbox.project("far"), name: "far-worker", machine: "far", env: sandbox.env("far") });
    await Promise.all([untilIdle(client, local.id), untilIdle(client, remote.id)]);
    step("both workers idle");

    // Each chat watched by a client of the hub of its own; both timed from the fake model's stamp (in this process).
    const localLatencies: number[] = [];
    const remoteLatencies: number[] = [];
    const chats: TimedChat[] = [];
    for (const [worker, into] of [
      [local.id, localLatencies],
      [remote.id, remoteLatencies],
    ] as const) {
      const watcher = await connect(hub);
      clients.push(watcher);
      chats.push(new TimedChat((await client.call(api.chat.create, { worker })).id, watcher, into));
    }
    for (const chat of chats) {
      const warm = await client.call(api.chat.send, { chat: chat.id, text: "warm up" });
      await replyEnded(client, chat.id, warm.messageId);
    }
    // One after the other, alternating, so drift in the machine's load hits both.
    for (let round = 0; round < ROUNDS; round++) {
      for (const chat of chats) {
        chat.seen = new Set();
        const { messageId } = await client.call(api.chat.send, { chat: chat.id, text: `stream timed ${CHUNKS}` });
        const reply = await replyEnded(client, chat.id, messageId);
        if (reply.status !== "completed") throw new Error(`a reply ended ${reply.status}: ${reply.error?.message ?? ""}`);
        if (chat.seen.size !== CHUNKS) throw new Error(`a watcher saw ${chat.seen.size} of ${CHUNKS} deltas`);
      }
      step(`round ${round} done`);
    }
    return [
      {
        name: "delta latency, a real remote worker (p50)",
        measured: percentile(remoteLatencies, 50),
        baseline: percentile(localLatencies, 50),
        baselineName: "a local worker of the same hub",
        unit: "ms",
        target: "≤ 2×",
        note: `${remoteLatencies.length} deltas each`,
      },
      {
        name: "delta latency, a real remote worker (p99)",
        measured: percentile(remoteLatencies, 99),
        baseline: percentile(localLatencies, 99),
        baselineName: "a local worker of the same hub",
        unit: "ms",
        target: "≤ 2×",
      },
    ];
  } finally {
    for (const c of clients) c.close();
    await cleanupHomes();
    await sandbox?.close();
  }
}
