// Chat benchmarks, against OpenCode's own event stream read directly with the same fake model:
// how late a delta reaches a client through the daemon, and how fast a flood of deltas reaches
// twenty watchers, with the daemon's CPU.
import { readFileSync } from "node:fs";
import { connectToDaemon } from "../../../src/client/daemon.js";
import type { FleetConnection } from "../../../src/client/connection.js";
import { resolveOpencodeBinary } from "../../../src/daemon/agent/opencode.js";
import { OpencodeProcess } from "../../../src/daemon/agent/opencode-process.js";
import { api, type MessageView } from "../../../src/protocol/api/index.js";
import { cleanupHomes, createHome, daemonState } from "../../helpers/daemon.js";
import { createOpencodeSandbox } from "../../helpers/opencode.js";
import { collectLatencies, textOf } from "../delta-timing.js";
import { percentile, type BenchRow } from "../measure.js";

const TIMED_CHUNKS = 150;
const FAST_CHUNKS = 3000;
const WATCHERS = 20;

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s)
}

const step = (what: string) => process.env.OCFLEET_BENCH_VERBOSE && process.stderr.write(`  chat bench: ${what}\n`);

export async function run(): Promise<BenchRow[]> {
  const sandbox = await createOpencodeSandbox();
  const home = createHome("ocf-bench-chat-");
  const connections: FleetConnection[] = [];
  let directProcess: OpencodeProcess | undefined;
  try {
    // The direct path: our adapter reading OpenCode's SSE, nothing else in between.
    const directLatencies: number[] = [];
    const directSeen = new Set<number>();
    const directText = new Map<string, string>();
    let directLast = 0;
    const directDir = sandbox.project("direct");
    directProcess = await OpencodeProcess.start({
      binary: resolveOpencodeBinary(),
      cwd: directDir,
      env: { ...process.env, ...sandbox.env("direct") },
      readyTimeoutMs: 30_000,
      onOutput: () => {},
      onEvent: (event) => {
        if (event.type !== "part.delta") return;
        directLast = performance.now();
        const text = (directText.get(event.partId) ?? "") + event.delta;
        directText.set(event.partId, text);
        collectLatencies(event.delta, directSeen, directLatencies);
      },
    });
    const direct = directProcess.serverFor(directDir);
    await Promise.all([direct.listModels(), directProcess.waitForEvents(30_000)]);
    step("direct OpenCode ready");
    const directSession = await direct.createSession("bench");
    await direct.prompt(directSession, "warm up", null);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // The daemon path: a worker, a chat, and a client watching the stream.
    const client = await connectToDaemon({ home, autoStart: true });
    connections.push(client);
    const added = await client.call(api.workers.add, { directory: sandbox.project("fleet"), env: sandbox.env("fleet") });
    await new Promise<void>((resolve) => {
      const sub = client.subscribe(api.workers.get, { worker: added.id }, { onValue: (w) => w.runState === "idle" && (sub.unsubscribe(), resolve()) });
    });
    const chat = await client.call(api.chat.create, { worker: added.id });
    const fleetLatencies: number[] = [];
    const fleetSeen = new Set<number>();
    let onStream: ((m: MessageView | null) => void) | null = null;
    client.subscribe(api.chat.stream, { chat: chat.id }, { onValue: (m) => onStream?.(m) });
    const untilReplyDone = (c: FleetConnection, messageId: string) =>
      new Promise<MessageView>((resolve) => {
        const sub = c.subscribe(
          api.chat.messages,
          { chat: chat.id },
          {
            onValue: (ms) => {
              const reply = ms.find((m) => m.replyTo === messageId);
              if (reply) sub.unsubscribe(), resolve(reply);
            },
          },
        );
      });
    const warm = await client.call(api.chat.send, { chat: chat.id, text: "warm up" });
    await untilReplyDone(client, warm.messageId);
    step("worker warmed up");

    // Latency: the two paths one after the other, twice, so drift in load hits both.
    for (let round = 0; round < 2; round++) {
      directSeen.clear();
      await direct.prompt(directSession, `stream timed ${TIMED_CHUNKS}`, null);
      const until = Date.now() + 30_000;
      while (directSeen.size < TIMED_CHUNKS && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
      step(`latency round ${round}: direct saw ${directSeen.size}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      fleetSeen.clear();
      onStream = (m) => collectLatencies(textOf(m), fleetSeen, fleetLatencies);
      const sent = await client.call(api.chat.send, { chat: chat.id, text: `stream timed ${TIMED_CHUNKS}` });
      await untilReplyDone(client, sent.messageId);
      onStream = null;
      step(`latency round ${round}: fleet saw ${fleetSeen.size}`);
    }
    const rows: BenchRow[] = [
      {
        name: "delta latency to a client (p50)",
        measured: percentile(fleetLatencies, 50),
        baseline: percentile(directLatencies, 50),
        baselineName: "OpenCode's event stream, read directly",
        unit: "ms",
        target: "≤ 1.2×",
      },
      {
        name: "delta latency to a client (p99)",
        measured: percentile(fleetLatencies, 99),
        baseline: percentile(directLatencies, 99),
        baselineName: "OpenCode's event stream, read directly",
        unit: "ms",
        target: "-",
      },
    ];

    // Throughput: a flood of tiny deltas, watched by twenty clients. OpenCode may merge chunks into
    // fewer events, so both paths are timed to the moment the whole text has arrived.
    directText.clear();
    const directStart = performance.now();
    await direct.prompt(directSession, `stream fast ${FAST_CHUNKS}`, null);
    const deadline = Date.now() + 60_000;
    while (![...directText.values()].some((t) => t.length >= FAST_CHUNKS) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    step("direct flood done");
    const directRate = FAST_CHUNKS / ((directLast - directStart) / 1000);

    const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => connectToDaemon({ home, autoStart: false })));
    connections.push(...watchers);
    const expected = Array.from({ length: FAST_CHUNKS }, (_, i) => `${i % 10}`).join("");
    let finishedAt = 0;
    let done = 0;
    // A watcher has it all when the streaming text, or the finished reply, is complete.
    const allDone = new Promise<void>((resolve) => {
      for (const w of watchers) {
        let complete = false;
        const check = (text: string) => {
          if (complete || text.length < expected.length) return;
          complete = true;
          if (++done === WATCHERS) (finishedAt = performance.now()), resolve();
        };
        w.subscribe(api.chat.stream, { chat: chat.id }, { onValue: (m) => check(textOf(m)) });
        w.subscribe(api.chat.messages, { chat: chat.id }, { onValue: (ms) => check(textOf(ms.at(-1) ?? null)) });
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const daemonPid = daemonState(home)!.pid;
    const ticksBefore = cpuTicks(daemonPid);
    const start = performance.now();
    await client.call(api.chat.send, { chat: chat.id, text: `stream fast ${FAST_CHUNKS}` });
    await allDone;
    const seconds = (finishedAt - start) / 1000;
    const cpuPercent = ((cpuTicks(daemonPid) - ticksBefore) / 100 / seconds) * 100;
    rows.push({
      name: `chunks/s delivered to ${WATCHERS} watchers (each)`,
      measured: FAST_CHUNKS / seconds,
      baseline: directRate,
      baselineName: "chunks/s through OpenCode, read directly",
      unit: "/s",
      target: "keep up",
    });
    rows.push({ name: "daemon CPU during that stream", measured: cpuPercent, baseline: 100, baselineName: "one core", unit: "%", target: "-" });
    return rows;
  } finally {
    connections.forEach((c) => c.close());
    directProcess?.subprocess.kill("SIGKILL");
    await cleanupHomes();
    await sandbox.close();
  }
}
