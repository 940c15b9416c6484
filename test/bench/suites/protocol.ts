// Foundation benchmarks: call round trip, live fan-out, and CLI start-up, each against a baseline
// measured in the same run on the same machine.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import WebSocket from "ws";
import { connectToDaemon } from "../../../src/client/daemon.js";
import type { FleetConnection } from "../../../src/client/connection.js";
import { api } from "../../../src/protocol/api/index.js";
import { BIN, cleanupHomes, createHome } from "../../helpers/daemon.js";
import { median, percentile, sample, timeProcess, type BenchRow } from "../measure.js";

const FAN_OUT_CLIENTS = 20;

/** A raw ws server in its own process: echoes each frame, or broadcasts it to every client. */
async function startRawServer(): Promise<{ port: number; child: ChildProcess }> {
  const script = `
    const { WebSocketServer } = require("ws");
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
    wss.on("connection", (ws) => ws.on("message", (data) => {
      const text = String(data);
      if (text.startsWith("broadcast")) for (const c of wss.clients) c.send(text); else ws.send(text);
    }));
    wss.on("listening", () => console.log(wss.address().port));
  `;
  const child = spawn(process.execPath, ["-e", script], { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] });
  const [chunk] = (await once(child.stdout!, "data")) as [Buffer];
  return { port: Number(String(chunk).trim()), child };
}

function openRaw(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function nextMessage(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => ws.once("message", () => resolve()));
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const home = createHome("ocf-bench-");
  const raw = await startRawServer();
  const daemonClients: FleetConnection[] = [];
  try {
    const client = await connectToDaemon({ home, autoStart: true });
    daemonClients.push(client);
    const echo = await openRaw(raw.port);

    // Interleave the two in blocks so drift in machine load hits both alike.
    const calls: number[] = [];
    const echoes: number[] = [];
    for (let block = 0; block < 10; block++) {
      calls.push(...(await sample(300, () => client.call(api.appinfo.get, {}))));
      echoes.push(
        ...(await sample(300, () => {
          const got = nextMessage(echo);
          echo.send('{"type":"echo"}');
          return got;
        })),
      );
    }
    rows.push({
      name: "appinfo call round trip (median)",
      measured: median(calls),
      baseline: median(echoes),
      baselineName: "raw ws echo",
      unit: "ms",
      target: "≤ 2×",
    });
    rows.push({
      name: "appinfo call round trip (p99)",
      measured: percentile(calls, 99),
      baseline: percentile(echoes, 99),
      baselineName: "raw ws echo",
      unit: "ms",
      target: "≤ 2×",
    });

    // Fan-out: one mutation, 20 subscribers; time until the last one has the change.
    const watchers = await Promise.all(Array.from({ length: FAN_OUT_CLIENTS }, () => connectToDaemon({ home, autoStart: false })));
    daemonClients.push(...watchers);
    let waiting: { remaining: number; done: () => void } | null = null;
    let ready = 0;
    for (const w of watchers) {
      w.subscribe(
        api.checklists.get,
        { key: "bench" },
        {
          onValue: () => {
            ready++;
            if (waiting && --waiting.remaining === 0) waiting.done();
          },
        },
      );
    }
    while (ready < FAN_OUT_CLIENTS) await new Promise((resolve) => setTimeout(resolve, 5));
    let n = 0;
    const fanOut = await sample(
      200,
      () => {
        const all = new Promise<void>((resolve) => (waiting = { remaining: FAN_OUT_CLIENTS, done: resolve }));
        return Promise.all([client.call(api.checklists.addItem, { key: "bench", text: `item ${n++}` }), all]);
      },
      20,
    );

    const rawWatchers = await Promise.all(Array.from({ length: FAN_OUT_CLIENTS }, () => openRaw(raw.port)));
    const rawFanOut = await sample(
      200,
      () => {
        const all = Promise.all(rawWatchers.map(nextMessage));
        echo.send("broadcast");
        return all;
      },
      20,
    );
    rawWatchers.forEach((w) => w.close());
    rows.push({
      name: `mutation fan-out to ${FAN_OUT_CLIENTS} subscribers (median)`,
      measured: median(fanOut),
      baseline: median(rawFanOut),
      baselineName: `raw ws broadcast to ${FAN_OUT_CLIENTS}`,
      unit: "ms",
      target: "< 5 ms",
    });
    echo.close();

    // Whole-process start-up of a reading subcommand, daemon up.
    const env = { ...process.env, OCFLEET_HOME: home };
    const cli: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < 3; i++) await timeProcess(process.execPath, [BIN, "version", "--json"], env);
    for (let i = 0; i < 20; i++) {
      cli.push(await timeProcess(process.execPath, [BIN, "version", "--json"], env));
      bare.push(await timeProcess(process.execPath, ["-e", "0"]));
    }
    rows.push({
      name: "`ocfleet version --json`, daemon up (median)",
      measured: median(cli),
      baseline: median(bare),
      baselineName: "node -e 0",
      unit: "ms",
      target: "≤ 1.5×",
    });
  } finally {
    daemonClients.forEach((c) => c.close());
    raw.child.kill();
    await cleanupHomes();
  }
  return rows;
}
