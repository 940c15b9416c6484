// The soak: a hub daemon under steady load for N minutes. Real OpenCode workers (the fake model)
// stream replies back to back, clients subscribed across the chats come and go, and a joined machine
// (a second daemon, through a TCP proxy) has its link cut every minute. It samples the hub's RSS,
// reads its live heap after each full collection from its GC trace (the memory verdict), times
// every delta from the model's clock to each client, and counts errors.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FleetConnection } from "../../src/client/connection.js";
import { FleetError } from "../../src/protocol/errors.js";
import { api, type ChatView, type MembershipView, type MessageView, type PartView, type WorkerView } from "../../src/protocol/api/index.js";
import { cleanupHomes, cliJson, connect, connectAsOwner, createHome, runCli } from "../helpers/daemon.js";
import { invite } from "../helpers/hub-net.js";
import { createOpencodeSandbox, type OpencodeSandbox } from "../helpers/opencode.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { percentile } from "../bench/measure.js";
import { type FullGc, liveHeapGrows, parseFullGcs, type Trend, trend } from "../helpers/gc-trace.js";

export interface SoakOptions {
  minutes: number;
  seed: number;
  /** Clients subscribed at any moment (one replaced every churnEveryMs). */
  clients?: number;
  /** Workers on the hub itself; one more streams on the joined machine. */
  localWorkers?: number;
  chatsPerWorker?: number;
  linkCutEveryMs?: number;
  churnEveryMs?: number;
  sampleEveryMs?: number;
  /** Copy the hub's log (with its --trace-gc lines) here. */
  traceGcTo?: string;
  log?: (line: string) => void;
}

export interface SoakReport {
  seed: number;
  minutes: number;
  /** [seconds since the load began, hub RSS in MB] */
  rss: Array<[number, number]>;
  /** RSS's fitted line after the warm-up (the first fifth): information only, it is mostly garbage awaiting collection. */
  rssTrend: Trend;
  /** [seconds since the load began, MB]: the hub's live JS heap after each full collection, from its --trace-gc lines. */
  liveHeap: Array<[number, number]>;
  /** The live heap's fitted line after the warm-up: the verdict. */
  liveHeapTrend: Trend;
  /** The live heap grows (liveHeapGrows); only judged for runs of 2 minutes or more. */
  upwardTrend: boolean;
  /** The hub's connections and subscriptions at the end, all clients still connected, and after they closed. */
  connectionsAtEnd: { open: { connections: number; subscriptions: number }; closed: { connections: number; subscriptions: number } };
  /** Deltas from the hub's own workers, timed from the model to each client. */
  deltas: number;
  deltaP50Ms: number;
  deltaP99Ms: number;
  deltaMaxMs: number;
  /** The same for the joined machine's worker; a delta streamed while its link was cut arrives after. */
  remoteDeltas: number;
  remoteDeltaP50Ms: number;
  remoteDeltaP99Ms: number;
  replies: number;
  remoteReplies: number;
  linkCuts: number;
  clientSwaps: number;
  /** Sends to the remote worker refused while its link was cut: expected, not errors. */
  refusedWhileCut: number;
  errors: string[];
}

const DAEMON_ENV = {
  OCFLEET_HEARTBEAT_MS: "1000",
  OCFLEET_MACHINE_OFFLINE_MS: "15000",
  OCFLEET_LINK_BACKOFF_MS: "300",
  OCFLEET_LINK_PING_MS: "1000",
  OCFLEET_WORKER_BACKOFF_MS: "100",
};
/** Each reply: 30 pieces 40 ms apart, each carrying the model's clock ("[i:t]"). */
const PROMPT = "stream timed 30 every 40 ms for the soak";
const LINK_DOWN_MS = 1500;
const REPLY_TIMEOUT_MS = 120_000;

/** mulberry32: a small seeded generator, so a run's choices can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const textOf = (m: MessageView | null | undefined) =>
  (m?.parts ?? [])
    .filter((p): p is Extract<PartView, { kind: "text" }> => p.kind === "text")
    .map((p) => p.text)
    .join("");

function until<T>(subscribe: (onValue: (v: T) => void) => { unsubscribe(): void }, accept: (v: T) => boolean, what: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const sub = subscribe((value) => {
      if (!accept(value)) return;
      clearTimeout(timer);
      queueMicrotask(() => sub.unsubscribe());
      resolve(value);
    });
  });
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const random = rng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const clientCount = options.clients ?? 50;
  const localWorkers = options.localWorkers ?? 3;
  const chatsPerWorker = options.chatsPerWorker ?? 3;
  const linkCutEveryMs = options.linkCutEveryMs ?? 60_000;
  const churnEveryMs = options.churnEveryMs ?? 500;
  const sampleEveryMs = options.sampleEveryMs ?? 2000;

  const errors: string[] = [];
  const error = (what: string) => {
    errors.push(what);
    log(`error: ${what}`);
  };
  /** Model-to-client delta latencies: local workers', and the joined machine's (cuts included). */
  const latencies: number[] = [];
  const remoteLatencies: number[] = [];
  let replies = 0;
  let remoteReplies = 0;
  let linkCuts = 0;
  let clientSwaps = 0;
  let refusedWhileCut = 0;
  let linkDown = false;
  const rss: Array<[number, number]> = [];

  let sandbox: OpencodeSandbox | undefined;
  let proxy: TcpProxy | undefined;
  /** The subscribed clients that come and go, and the connections that send (one per worker). */
  const clients = new Set<FleetConnection>();
  const drivers = new Set<FleetConnection>();
  let owner: FleetConnection | undefined;
  let farOwner: FleetConnection | undefined;
  let hubHome: string | undefined;
  let hubLog = "";
  let loadStartUptimeMs = 0;
  let connectionsAtEnd: SoakReport["connectionsAtEnd"] = { open: { connections: 0, subscriptions: 0 }, closed: { connections: 0, subscriptions: 0 } };
  try {
    sandbox = await createOpencodeSandbox();
    const hub = createHome("ocf-soak-hub-");
    hubHome = hub;
    const machine = createHome("ocf-soak-far-");
    for (const home of [hub, machine]) {
      // The hub always traces its collections: the verdict is drawn from the live heap after each full one.
      const traceGc = home === hub ? { OCFLEET_DAEMON_NODE_FLAGS: `--trace-gc ${process.env.OCFLEET_DAEMON_NODE_FLAGS ?? ""}` } : {};
      const started = await runCli(home, ["daemon", "start"], { env: { ...DAEMON_ENV, ...traceGc } });
      if (started.code !== 0) throw new Error(`daemon start failed: ${started.stderr}`);
    }
    const first = await cliJson(hub, ["hub", "enable", "--listen", "127.0.0.1:0"]);
    proxy = await new TcpProxy(Number(first.listen.split(":").pop())).start();
    await cliJson(hub, ["hub", "enable", "--listen", first.listen, "--public-url", `wss://127.0.0.1:${proxy.port}`]);
    const joined = await runCli(machine, ["machine", "join", await invite(hub, { approve: true, name: "far" })]);
    if (joined.code !== 0) throw new Error(`machine join failed: ${joined.stderr}`);
    log("hub and joined machine up; starting workers");

    const box = sandbox;
    owner = await connectAsOwner(hub);
    farOwner = await connectAsOwner(machine);
    const ownerConnection = owner;
    const workerNames = [...Array.from({ length: localWorkers }, (_, i) => `local${i}`), "remote"];
    // Through the API rather than `worker add`: OpenCode may take longer than a CLI's patience to
    // start four at once on a loaded machine; the load waits for every worker to be idle.
    await Promise.all(
      workerNames.map(async (name) => {
        await ownerConnection.call(api.workers.add, {
          directory: box.project(name),
          name,
          env: box.env(name),
          ...(name === "remote" ? { machine: "far" } : {}),
        });
        await until<WorkerView>(
          (onValue) => ownerConnection.subscribe(api.workers.get, { worker: name }, { onValue }),
          (w) => w.runState === "idle",
          `worker ${name} idle`,
          180_000,
        );
      }),
    );
    const chats = new Map<string, string[]>();
    for (const name of workerNames) {
      const ids: string[] = [];
      for (let i = 0; i < chatsPerWorker; i++) ids.push((await owner.call(api.chat.create, { worker: name, title: `soak ${name} ${i}` })).id);
      chats.set(name, ids);
    }
    const allChats = [...chats.values()].flat();
    log(`${workerNames.length} workers idle, ${allChats.length} chats; load begins`);

    // Clients: each follows one chat's stream and times every new piece against the model's clock.
    const openClient = async (): Promise<void> => {
      const chatId = pick(allChats);
      const timings = chats.get("remote")!.includes(chatId) ? remoteLatencies : latencies;
      const client = await connect(hub);
      clients.add(client);
      const seen = new Map<string, number>();
      let first = true;
      client.subscribe(
        api.chat.stream,
        { chat: chatId },
        {
          onValue: (m) => {
            // What the first value holds streamed before this client came: not deltas it waited for.
            const initial = first;
            first = false;
            if (!m) return;
            const now = performance.now();
            const pieces = [...textOf(m).matchAll(/\[(\d+):([\d.]+)\]/g)];
            const already = seen.get(m.id) ?? 0;
            if (!initial) for (const piece of pieces.slice(already)) timings.push(now - Number(piece[2]));
            seen.set(m.id, Math.max(already, pieces.length));
          },
          onError: (err) => {
            if (clients.has(client)) error(`a client's stream subscription failed: ${err.message}`);
          },
        },
      );
    };
    await Promise.all(Array.from({ length: clientCount }, openClient));

    // The trace's clock counts from the hub's start, as its uptime does (give or take its module loading).
    loadStartUptimeMs = (await owner.call(api.daemon.status, {})).uptimeMs;
    const started = performance.now();
    const deadline = Date.now() + options.minutes * 60_000;
    const running = () => Date.now() < deadline;

    const drive = async (worker: string): Promise<void> => {
      const driver = await connect(hub);
      drivers.add(driver);
      try {
        while (running()) {
          const chatId = pick(chats.get(worker)!);
          let messageId: string;
          try {
            ({ messageId } = await driver.call(api.chat.send, { chat: chatId, text: PROMPT }));
          } catch (err) {
            if (worker === "remote" && linkDown && err instanceof FleetError) {
              refusedWhileCut++;
              await sleep(500);
              continue;
            }
            error(`send to ${worker} failed: ${(err as Error).message}`);
            await sleep(1000);
            continue;
          }
          try {
            // Waits for the turn to end on the chat's summary, then reads the transcript once. A
            // subscription to chat.messages would hold the whole transcript (a reply more every
            // turn) in the hub while it waits: growth the heap verdict would count against the hub.
            await until<ChatView>(
              (onValue) => driver.subscribe(api.chat.get, { chat: chatId }, { onValue }),
              (chat) => !chat.busy,
              `${worker}'s reply`,
              REPLY_TIMEOUT_MS,
            );
            const reply = (await driver.call(api.chat.messages, { chat: chatId })).find((m) => m.replyTo === messageId);
            if (!reply) error(`the turn on ${worker} ended without a reply`);
            else if (reply.status !== "completed") error(`a reply on ${worker} ended ${reply.status}`);
            else if (worker === "remote") remoteReplies++;
            else replies++;
          } catch (err) {
            error((err as Error).message);
          }
        }
      } finally {
        drivers.delete(driver);
        driver.close();
      }
    };

    const churn = async (): Promise<void> => {
      while (running()) {
        await sleep(churnEveryMs);
        const leaving = pick([...clients]);
        clients.delete(leaving);
        leaving.close();
        try {
          await openClient();
          clientSwaps++;
        } catch (err) {
          error(`a client could not connect: ${(err as Error).message}`);
        }
      }
    };

    const cutLinks = async (): Promise<void> => {
      for (;;) {
        const wait = Math.min(linkCutEveryMs, deadline - Date.now());
        if (wait <= LINK_DOWN_MS) return;
        await sleep(wait);
        linkDown = true;
        await proxy!.drop();
        linkCuts++;
        log(`link cut ${linkCuts}`);
        await sleep(LINK_DOWN_MS);
        await proxy!.restore();
        // Sends to the remote worker are refused ("that machine is offline") until the machine has
        // linked again: the cut lasts until its membership says connected.
        await until<MembershipView | null>(
          (onValue) => farOwner!.subscribe(api.membership.status, {}, { onValue }),
          (m) => m?.connected === true,
          "the link back",
          30_000,
        ).catch((err: Error) => error(err.message));
        linkDown = false;
      }
    };

    const sample = async (): Promise<void> => {
      while (running()) {
        try {
          const status = await owner!.call(api.daemon.status, {});
          rss.push([(performance.now() - started) / 1000, status.rssBytes / 1e6]);
        } catch (err) {
          error(`daemon.status failed: ${(err as Error).message}`);
        }
        await sleep(sampleEveryMs);
      }
    };

    const driving = workerNames.map(drive);
    const progress = setInterval(() => {
      const last = rss.at(-1);
      log(
        `${((performance.now() - started) / 60_000).toFixed(1)} min: ${replies + remoteReplies} replies, ${latencies.length + remoteLatencies.length} deltas, RSS ${last ? last[1].toFixed(1) : "?"} MB, ${errors.length} errors`,
      );
    }, 30_000);
    await Promise.all([...driving, churn(), cutLinks(), sample()]);
    clearInterval(progress);

    // Every client gone, the hub holds no state of theirs: only the owner's connection is left.
    const stats = async () => {
      const { connections, subscriptions } = await ownerConnection.call(api.daemon.status, {});
      return { connections, subscriptions };
    };
    const open = await stats();
    for (const c of [...clients, ...drivers]) c.close();
    clients.clear();
    let closed = await stats();
    for (const deadline = Date.now() + 30_000; (closed.connections > 1 || closed.subscriptions > 0) && Date.now() < deadline; closed = await stats()) {
      await sleep(200);
    }
    if (closed.connections > 1 || closed.subscriptions > 0) {
      error(`after every client closed the hub still counts ${closed.connections - 1} of their connections and ${closed.subscriptions} subscriptions`);
    }
    connectionsAtEnd = { open, closed };
  } finally {
    for (const c of [...clients, ...drivers]) c.close();
    owner?.close();
    farOwner?.close();
    await proxy?.close();
    if (hubHome && existsSync(join(hubHome, "daemon.log"))) {
      hubLog = readFileSync(join(hubHome, "daemon.log"), "utf8");
      if (options.traceGcTo) writeFileSync(options.traceGcTo, hubLog);
    }
    await cleanupHomes();
    await sandbox?.close();
  }

  // The warm-up: the first fifth of the load, while caches fill and code is compiled.
  const warmFrom = (options.minutes * 60) / 5;
  // Collections before the load (negative times) are kept: the first is the hub just started.
  const liveHeap = parseFullGcs(hubLog).map(({ atMs, liveMb }: FullGc): [number, number] => [(atMs - loadStartUptimeMs) / 1000, liveMb]);
  const liveHeapTrend = trend(liveHeap.filter(([t]) => t >= warmFrom));
  return {
    seed: options.seed,
    minutes: options.minutes,
    rss,
    rssTrend: trend(rss.filter(([t]) => t >= warmFrom)),
    liveHeap,
    liveHeapTrend,
    upwardTrend: options.minutes >= 2 && liveHeapGrows(liveHeapTrend),
    connectionsAtEnd,
    deltas: latencies.length,
    deltaP50Ms: latencies.length ? percentile(latencies, 50) : Number.NaN,
    deltaP99Ms: latencies.length ? percentile(latencies, 99) : Number.NaN,
    deltaMaxMs: latencies.length ? latencies.reduce((max, v) => Math.max(max, v), 0) : Number.NaN,
    remoteDeltas: remoteLatencies.length,
    remoteDeltaP50Ms: remoteLatencies.length ? percentile(remoteLatencies, 50) : Number.NaN,
    remoteDeltaP99Ms: remoteLatencies.length ? percentile(remoteLatencies, 99) : Number.NaN,
    replies,
    remoteReplies,
    linkCuts,
    clientSwaps,
    refusedWhileCut,
    errors,
  };
}
