// The fleet at scale: one real hub daemon and 200 simulated machines × 5 workers, each a real
// WebSocket over TLS on loopback speaking the real link protocol (join with an invite, heartbeats
// numbered like the agent's outbox, answers to commands), and 20 clients watching the fleet.
// No OpenCode: the simulated agents answer directory.inspect and worker.start themselves.
import { readFileSync } from "node:fs";
import { WebSocket } from "ws";
import type { FleetConnection } from "../../../src/client/connection.js";
import { connectToDaemon } from "../../../src/client/daemon.js";
import { pinnedTlsConnect } from "../../../src/platform/tls-pin.js";
import { api } from "../../../src/protocol/api/index.js";
import { LINK_VERSION, parseInviteToken } from "../../../src/protocol/link.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../../src/protocol/version.js";
import { cleanupHomes, createHome, daemonState, runCli } from "../../helpers/daemon.js";
import { percentile, type BenchRow } from "../measure.js";

const MACHINES = Number(process.env.OCFLEET_BENCH_MACHINES ?? 200);
const WORKERS_PER_MACHINE = 5;
const STREAMING = 20;
const WATCHERS = 20;
const HEARTBEAT_MS = 1000;
const ROUNDS = 30;

const facts = (i: number) => ({
  hostname: `sim-${i}`,
  platform: "linux",
  release: "6",
  arch: "x64",
  cpus: 2,
  totalMemoryBytes: 1,
  agentVersion: PACKAGE_VERSION,
});
const idle = { runState: "idle", reason: null, pid: 1, startedAt: 1, restartCount: 0, opencodeVersion: "sim" } as const;

/** One simulated machine: joins, heartbeats, answers commands, reports what it is told to. */
class SimAgent {
  private seq = 0;
  private ws!: WebSocket;
  private beat: NodeJS.Timeout | undefined;
  readonly workers: string[] = [];

  constructor(private readonly index: number) {}

  join(token: string): Promise<void> {
    const invite = parseInviteToken(token);
    this.ws = new WebSocket(invite.url, {
      perMessageDeflate: false,
      createConnection: (opts: object) => pinnedTlsConnect({ ...opts, fingerprint: invite.fingerprint }),
    } as ConstructorParameters<typeof WebSocket>[2]);
    return new Promise((resolve, reject) => {
      this.ws.once("error", reject);
      this.ws.on("open", () =>
        this.ws.send(
          JSON.stringify({
            type: "hello",
            protocol: PROTOCOL_VERSION,
            client: { name: "sim", version: PACKAGE_VERSION },
            link: { version: LINK_VERSION, join: { secret: invite.secret, facts: facts(this.index) } },
          }),
        ),
      );
      this.ws.on("message", (data) => {
        const frame = JSON.parse(data.toString());
        if (frame.type === "error") return reject(new Error(frame.error.message));
        if (frame.t === "linked") {
          this.beat = setInterval(() => this.report({ type: "machine.heartbeat", facts: facts(this.index), at: Date.now() }), HEARTBEAT_MS);
          this.report({ type: "machine.heartbeat", facts: facts(this.index), at: Date.now() });
          resolve();
        } else if (frame.t === "ping") this.send({ t: "pong", at: frame.at });
        else if (frame.t === "command") this.answer(frame.id, frame.name, frame.args);
      });
    });
  }

  private answer(id: number, name: string, args: any): void {
    if (name === "directory.inspect") return this.send({ t: "result", id, result: { directory: args.directory } });
    if (name === "worker.start") {
      this.workers.push(args.worker.id);
      this.send({ t: "result", id, result: idle });
      return this.runtime(args.worker.id, "idle");
    }
    this.send({ t: "result", id, error: { code: "unavailable", message: `the simulation does not do ${name}` } });
  }

  runtime(workerId: string, runState: "idle" | "active"): void {
    this.report({ type: "worker.runtime", workerId, runtime: { ...idle, runState }, at: Date.now() });
  }

  private report(report: unknown): void {
    this.send({ t: "report", seq: ++this.seq, report });
  }

  private send(frame: unknown): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(frame));
  }

  close(): void {
    clearInterval(this.beat);
    this.ws.terminate();
  }
}

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
  try {
    if ((await runCli(home, ["daemon", "start"], { env: { OCFLEET_MACHINE_OFFLINE_MS: "10000" } })).code !== 0) throw new Error("the hub did not start");
    const admin = await connectToDaemon({ home, autoStart: false });
    clients.push(admin);
    await admin.call(api.hub.enable, { listen: "127.0.0.1:0" });
    const pid = daemonState(home)!.pid;
    const idleRss = rssMb(pid);

    for (let i = 0; i < MACHINES; i++) {
      const agent = new SimAgent(i);
      await agent.join((await admin.call(api.hub.invite, { approve: true, name: `sim-${i}` })).token);
      agents.push(agent);
    }
    for (let i = 0; i < MACHINES; i++) {
      for (let w = 0; w < WORKERS_PER_MACHINE; w++)
        await admin.call(api.workers.add, { directory: `/sim/${i}/${w}`, name: `sim-${i}-${w}`, machine: `sim-${i}` });
    }
    // Heartbeat cost: hub CPU over a quiet window, per heartbeat processed.
    const cpu0 = cpuSeconds(pid);
    const window0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const windowS = (performance.now() - window0) / 1000;
    const heartbeatCpuMs = ((cpuSeconds(pid) - cpu0) * 1000) / ((MACHINES * windowS * 1000) / HEARTBEAT_MS);
    const heartbeatCpuPct = ((cpuSeconds(pid) - cpu0) / windowS) * 100;

    for (let i = 0; i < WATCHERS; i++) {
      const watcher = await connectToDaemon({ home, autoStart: false });
      clients.push(watcher);
      watcher.subscribe(api.machines.list, {}, { onValue: () => {} });
    }

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
    // The same path without the link: a client's mutation seen by another client of the same hub.
    await admin.call(api.checklists.addItem, { key: "bench", text: "start" });
    const local: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const text = `round ${round}`;
      const wait = whenSeen<any>(
        (onValue) => clients[1]!.subscribe(api.checklists.get, { key: "bench" }, { onValue, onError: () => {} }),
        (v) => v?.items?.some((item: { text: string }) => item.text === text),
      );
      await clients[1]!.call(api.auth.whoami, {});
      const sent = performance.now();
      await admin.call(api.checklists.addItem, { key: "bench", text });
      local.push((await wait) - sent);
    }
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
        name: `report → watching client p50 (${STREAMING} at once, ${WATCHERS} fleet watchers)`,
        measured: percentile(remote, 50),
        baseline: percentile(local, 50),
        baselineName: "mutation → other client, same hub",
        unit: "ms",
        target: "≤ 2×",
      },
      {
        name: "report → watching client p99",
        measured: percentile(remote, 99),
        baseline: percentile(local, 99),
        baselineName: "mutation → other client p99",
        unit: "ms",
        target: "≤ 2×",
      },
    ];
  } finally {
    for (const agent of agents) agent.close();
    for (const client of clients) client.close();
    await cleanupHomes();
  }
}
