// The fleet at scale: one real hub daemon and 200 simulated machines × 5 workers, each a real
// WebSocket over TLS on loopback speaking the real link protocol (test/bench/sim-agent.ts: join
// with an invite, numbered heartbeats, answers to commands, OpenCode's events for a reply), with
// 20 of their workers streaming a reply at once, each watched by one of 20 clients that also
// watch the fleet, and one real local worker (OpenCode, fake model) streaming in the same run.
import { readFileSync } from "node:fs";
import type { FleetConnection } from "../../../src/client/connection.js";
import { connectToDaemon } from "../../../src/client/daemon.js";
import { api } from "../../../src/protocol/api/index.js";
import { cleanupHomes, createHome, daemonState, runCli } from "../../helpers/daemon.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../../helpers/opencode.js";
import { percentile, type BenchRow } from "../measure.js";
import { replyEnded, TimedChat } from "../delta-timing.js";
import { SimAgent } from "../sim-agent.js";

const MACHINES = Number(process.env.OCFLEET_BENCH_MACHINES ?? 200);
const WORKERS_PER_MACHINE = 5;
const STREAMING = 20;
const WATCHERS = 20;
const HEARTBEAT_MS = 1000;
const ROUNDS = 30;
/** Each streamed reply: this many deltas, this far apart (the fake model's "stream timed" default). */
const CHUNKS = 150;
const CHUNK_EVERY_MS = 20;
const CHAT_ROUNDS = 2;

const step = (what: string) => process.env.OCFLEET_BENCH_VERBOSE && process.stderr.write(`  fleet bench: ${what}\n`);

/** CPU seconds (user + system) the process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/)!;
  return Number(line[1]) / 1024;
}

/** Resolves with the moment (performance.now) a value of the subscription satisfies `accept`. */
function whenSeen<T>(subscribe: (onValue: (v: T) => void) => { unsubscribe(): void }, accept: (v: T) => boolean): Promise<number> {
  return new Promise((resolve) => {
    const sub = subscribe((value) => {
      if (!accept(value)) return;
      const at = performance.now();
      queueMicrotask(() => sub.unsubscribe());
      resolve(at);
    });
  });
}

export async function run(): Promise<BenchRow[]> {
  const home = createHome("ocf-bench-hub-");
  const agents: SimAgent[] = [];
  const clients: FleetConnection[] = [];
  let sandbox: OpencodeSandbox | undefined;
  try {
    if ((await runCli(home, ["daemon", "start"], { env: { OCFLEET_MACHINE_OFFLINE_MS: "10000" } })).code !== 0) throw new Error("the hub did not start");
    const admin = await connectToDaemon({ home, autoStart: false });
    clients.push(admin);
    await admin.call(api.hub.enable, { listen: "127.0.0.1:0" });
    const pid = daemonState(home)!.pid;
    const idleRss = rssMb(pid);

    // The local baseline: a real worker on the hub's own machine (in-process agent, real OpenCode,
    // the fake model), started while the hub is quiet, streaming in the same run as the simulated
    // machines. It is what "the single-machine figure" is to a user. There is no way to feed the
    // in-process agent deltas without OpenCode (and no fakes of our own code), so the two paths
    // differ by OpenCode's own hop (fake model → OpenCode → its event stream), which the simulated
    // machines skip: the ratio flatters the link by that hop. The `remote` suite times a real remote
    // worker (two daemons, OpenCode on both sides) against a local one for the like-for-like figure.
    sandbox = await createOpencodeSandbox();
    const local = await admin.call(api.workers.add, { directory: sandbox.project("local"), name: "local", env: sandbox.env("local") });
    await whenSeen<{ runState: string }>(
      (onValue) => admin.subscribe(api.workers.get, { worker: local.id }, { onValue }),
      (w) => w.runState === "idle",
    );
    step("local worker idle");

    for (let i = 0; i < MACHINES; i++) {
      const agent = new SimAgent(i, HEARTBEAT_MS);
      await agent.join((await admin.call(api.hub.invite, { approve: true, name: `sim-${i}` })).token);
      agents.push(agent);
    }
    for (let i = 0; i < MACHINES; i++) {
      for (let w = 0; w < WORKERS_PER_MACHINE; w++)
        await admin.call(api.workers.add, { directory: `/sim/${i}/${w}`, name: `sim-${i}-${w}`, machine: `sim-${i}` });
    }
    step(`${MACHINES} machines joined`);
    // Heartbeat cost: hub CPU over a quiet window, per heartbeat processed.
    const cpu0 = cpuSeconds(pid);
    const window0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const windowS = (performance.now() - window0) / 1000;
    const heartbeatCpuMs = ((cpuSeconds(pid) - cpu0) * 1000) / ((MACHINES * windowS * 1000) / HEARTBEAT_MS);
    const heartbeatCpuPct = ((cpuSeconds(pid) - cpu0) / windowS) * 100;

    // Fleet watchers: how many machine-list frames each gets while every machine heartbeats.
    const watchers: FleetConnection[] = [];
    let fleetFrames = 0;
    for (let i = 0; i < WATCHERS; i++) {
      const watcher = await connectToDaemon({ home, autoStart: false });
      watchers.push(watcher);
      watcher.subscribe(api.machines.list, {}, { onValue: () => fleetFrames++ });
    }
    clients.push(...watchers);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const framesFrom = fleetFrames;
    const framesWindow0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const framesPerWatcherPerS = (fleetFrames - framesFrom) / WATCHERS / ((performance.now() - framesWindow0) / 1000);

    // A report through the hub to a watching client, for 20 workers at once, in rounds.
    const remote: number[] = [];
    const streamingAgents = agents.slice(0, STREAMING);
    for (let round = 0; round < ROUNDS; round++) {
      const state = round % 2 === 0 ? "active" : "idle";
      const waits = streamingAgents.map((agent) =>
        whenSeen<{ runState: string }>(
          (onValue) => admin.subscribe(api.workers.get, { worker: agent.workers[0]! }, { onValue }),
          (w) => w.runState === state,
        ),
      );
      // Subscriptions first (their first value is the old state), then the reports.
      await admin.call(api.auth.whoami, {});
      const sent = performance.now();
      for (const agent of streamingAgents) agent.runtime(agent.workers[0]!, state);
      for (const seen of await Promise.all(waits)) remote.push(seen - sent);
    }
    // The same without the link, at the same concurrency: 20 clients' mutations at once (one
    // checklist each), seen by the one client watching all 20, as the reports above are.
    const senders = watchers.slice(0, STREAMING);
    for (const [i, sender] of senders.entries()) await sender.call(api.checklists.addItem, { key: `bench-${i}`, text: "start" });
    const mutation: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const text = `round ${round}`;
      const waits = senders.map((_, i) =>
        whenSeen<any>(
          (onValue) => admin.subscribe(api.checklists.get, { key: `bench-${i}` }, { onValue, onError: () => {} }),
          (v) => v?.items?.some((item: { text: string }) => item.text === text),
        ),
      );
      await admin.call(api.auth.whoami, {});
      const sent = performance.now();
      for (const [i, sender] of senders.entries()) void sender.call(api.checklists.addItem, { key: `bench-${i}`, text });
      for (const seen of await Promise.all(waits)) mutation.push(seen - sent);
    }
    step("report rounds done");

    // Chat deltas: 20 simulated workers stream a reply at once, each watched by one of the fleet
    // watchers, while the local worker streams one of the same length and pace, watched by a client
    // of its own. Both are timed the same way: the "[i:t]" stamp of the sender (the simulated agent;
    // for the local worker the fake model in this process) to the watcher's receipt.
    const remoteDeltas: number[] = [];
    const localDeltas: number[] = [];
    const remoteChats: { chat: TimedChat; agent: SimAgent }[] = [];
    for (let i = 0; i < STREAMING; i++) {
      const agent = agents[i]!;
      const created = await admin.call(api.chat.create, { worker: agent.workers[0]! });
      remoteChats.push({ chat: new TimedChat(created.id, watchers[i]!, remoteDeltas), agent });
      agent.onPrompt = (_workerId, sessionId) => void agent.streamReply(sessionId, CHUNKS, CHUNK_EVERY_MS);
    }
    const localWatcher = await connectToDaemon({ home, autoStart: false });
    clients.push(localWatcher);
    const localChat = new TimedChat((await admin.call(api.chat.create, { worker: local.id })).id, localWatcher, localDeltas);
    const warm = await admin.call(api.chat.send, { chat: localChat.id, text: "warm up" });
    await replyEnded(admin, localChat.id, warm.messageId);
    const cpuStream0 = cpuSeconds(pid);
    const stream0 = performance.now();
    for (let round = 0; round < CHAT_ROUNDS; round++) {
      for (const timed of [localChat, ...remoteChats.map((r) => r.chat)]) timed.seen = new Set();
      const sends = [localChat, ...remoteChats.map((r) => r.chat)].map(async (timed) => {
        const text = `stream timed ${CHUNKS} every ${CHUNK_EVERY_MS} ms`;
        const { messageId } = await admin.call(api.chat.send, { chat: timed.id, text });
        const reply = await replyEnded(admin, timed.id, messageId);
        if (reply.status !== "completed") throw new Error(`a reply ended ${reply.status}: ${reply.error?.message ?? ""}`);
        if (timed.seen.size !== CHUNKS) throw new Error(`a watcher saw ${timed.seen.size} of ${CHUNKS} deltas`);
      });
      await Promise.all(sends);
      step(`chat round ${round} done`);
    }
    const streamS = (performance.now() - stream0) / 1000;
    const streamCpuPct = ((cpuSeconds(pid) - cpuStream0) / streamS) * 100;

    const rss = rssMb(pid);
    return [
      {
        name: `hub RSS, ${MACHINES} machines × ${WORKERS_PER_MACHINE} workers`,
        measured: rss,
        baseline: idleRss,
        baselineName: "the same hub, no machines",
        unit: "MB",
        target: "≤ 300 MB",
      },
      {
        name: "hub CPU while machines heartbeat (1/s each)",
        measured: heartbeatCpuPct,
        baseline: 100,
        baselineName: "one core",
        unit: "%",
        target: "-",
        note: `${heartbeatCpuMs.toFixed(3)} ms CPU per heartbeat`,
      },
      {
        name: `fleet view frames per watcher per second (${WATCHERS} watchers)`,
        measured: framesPerWatcherPerS,
        baseline: (MACHINES * 1000) / HEARTBEAT_MS,
        baselineName: "heartbeats per second",
        unit: "/s",
        target: "coalesced",
      },
      {
        name: `report → watching client p50 (${STREAMING} at once)`,
        measured: percentile(remote, 50),
        baseline: percentile(mutation, 50),
        baselineName: `${STREAMING} clients' mutations → one watcher`,
        unit: "ms",
        target: "≤ 2×",
      },
      {
        name: "report → watching client p99",
        measured: percentile(remote, 99),
        baseline: percentile(mutation, 99),
        baselineName: `${STREAMING} clients' mutations, p99`,
        unit: "ms",
        target: "≤ 2×",
      },
      {
        name: `chat delta → watcher p50, ${STREAMING} simulated machines streaming`,
        measured: percentile(remoteDeltas, 50),
        baseline: percentile(localDeltas, 50),
        baselineName: "a local worker (real OpenCode), same run",
        unit: "ms",
        target: "≤ 2×",
        note: `${remoteDeltas.length} and ${localDeltas.length} deltas`,
      },
      {
        name: "chat delta → watcher p99",
        measured: percentile(remoteDeltas, 99),
        baseline: percentile(localDeltas, 99),
        baselineName: "a local worker (real OpenCode), same run",
        unit: "ms",
        target: "≤ 2×",
      },
      {
        name: `hub CPU while ${STREAMING + 1} replies stream`,
        measured: streamCpuPct,
        baseline: 100,
        baselineName: "one core",
        unit: "%",
        target: "-",
      },
    ];
  } finally {
    for (const agent of agents) agent.close();
    for (const client of clients) client.close();
    await cleanupHomes();
    await sandbox?.close();
  }
}
