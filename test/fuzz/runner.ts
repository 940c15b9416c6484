// The protocol fuzzer's runner: starts a real daemon with its hub listener, a machine joined with a
// real invite and a worker of the hub's own machine to forge reports about, runs the storm (its own
// process) while a well-behaved client keeps calling, and checks what must hold afterwards.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../src/daemon/db/sqlite-driver.js";
import { WebSocket } from "ws";
import type { FleetConnection } from "../../src/client/connection.js";
import { isPidAlive } from "../../src/platform/processes.js";
import { pinnedTlsConnect } from "../../src/platform/tls-pin.js";
import { api } from "../../src/protocol/api/index.js";
import { parseInviteToken } from "../../src/protocol/link.js";
import { statePaths } from "../../src/protocol/statefile.js";
import { PACKAGE_VERSION, PROTOCOL_VERSION } from "../../src/protocol/version.js";
import { cleanupHomes, connectAsOwner, createHome, daemonState, killDaemon, REPO_ROOT, runCli } from "../helpers/daemon.js";
import { inspectorUrl, liveHeapAfterFullGc } from "./heap.js";
import type { LinkTarget } from "./generator.js";
import type { StormConfig, StormSummary } from "./storm.js";

export interface FuzzOptions {
  seed: number;
  /** Hostile frames to send (the storm also stops at `seconds`). */
  hostileFrames: number;
  seconds: number;
  lanes?: { loopback: number; network: number; link: number };
  /** Progress lines. */
  say?: (line: string) => void;
}

export interface FuzzReport {
  seed: number;
  storm: StormSummary;
  /** startedKb: just after setup, before the warm-up; beforeKb: after it; afterKb: after the storm. Each after a full collection but the peak. Information only. */
  rss: { startedKb: number; beforeKb: number; peakKb: number; afterKb: number };
  /** The JS heap after a full collection, before the storm (after the warm-up) and after it (MB): the memory check. */
  liveHeap: { beforeMb: number; afterMb: number };
  latency: { idleP99Ms: number; stormP99Ms: number; stormCalls: number };
  /** Every check that did not hold, in words; empty when all did. */
  failures: string[];
}

/** Memory (the live heap after a full collection) may come back this close to where it started, and calls may slow down this much under the storm. */
export const MEMORY_TOLERANCE = 0.2;
export const LATENCY_FACTOR = 10;
/** At least this many warm-up frames, and at least half the storm: the baseline is the daemon having run every path the storm takes. */
const WARM_UP_FRAMES = 300;

/** 0 once the process is gone. */
function rssKb(pid: number): number {
  if (!isPidAlive(pid)) return 0;
  const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) : 0;
}

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
}

/** Joins the hub as a new machine through the real invite path, as an agent would; returns its credential. */
async function joinMachine(owner: FleetConnection, url: string, fingerprint: string): Promise<{ machineId: string; credential: string }> {
  const { secret } = parseInviteToken((await owner.call(api.hub.invite, { name: "fuzz-machine", approve: true })).token);
  const ws = new WebSocket(url, { createConnection: (opts: object) => pinnedTlsConnect({ ...opts, fingerprint }) } as ConstructorParameters<
    typeof WebSocket
  >[2]);
  const facts = { hostname: "fuzz", platform: "linux", release: "6", arch: "x64", cpus: 2, totalMemoryBytes: 1e9, agentVersion: PACKAGE_VERSION };
  const linked = await new Promise<any>((resolve, reject) => {
    ws.once("open", () =>
      ws.send(
        JSON.stringify({
          type: "hello",
          protocol: PROTOCOL_VERSION,
          client: { name: "fuzz", version: PACKAGE_VERSION },
          link: { version: 1, join: { secret, facts } },
        }),
      ),
    );
    ws.once("message", (data) => resolve(JSON.parse(String(data))));
    ws.once("error", reject);
  });
  ws.terminate();
  if (linked.t !== "linked" || !linked.credential) throw new Error(`the fuzzer could not join the hub: ${JSON.stringify(linked)}`);
  return { machineId: linked.machineId, credential: linked.credential };
}

/**
 * A daemon in `home` with its hub listener on loopback, a machine joined with a real invite (the
 * fuzzer's), and a worker of the hub's own machine that never starts (its OpenCode binary does not
 * exist): its row is what forged reports name.
 */
export async function startHubTarget(
  home: string,
  projectDir: string,
): Promise<{ owner: FleetConnection; url: string; fingerprint: string; target: LinkTarget }> {
  const owner = await connectAsOwner(home);
  const { url, fingerprint } = (await owner.call(api.hub.enable, { listen: "127.0.0.1:0" })) as { url: string; fingerprint: string };
  await owner.call(api.workers.add, { directory: projectDir, name: "victim", opencodeBinary: join(home, "no-opencode") }).catch(() => {});
  const victim = await owner.call(api.workers.get, { worker: "victim" });
  return { owner, url, fingerprint, target: { ...(await joinMachine(owner, url, fingerprint)), victimWorkerId: victim.id } };
}

function storm(config: StormConfig): Promise<StormSummary> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "test/fuzz/storm.ts"), JSON.stringify(config)], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0 || !last.startsWith("{")) reject(new Error(`the storm process failed (exit ${code}): ${stderr.slice(-2000)}`));
      else resolve(JSON.parse(last) as StormSummary);
    });
  });
}

/** Calls as a well-behaved client would, one after another, until `done()`; returns each call's time in ms. */
async function keepCalling(client: FleetConnection, done: () => boolean, failures: string[], atLeast = 0): Promise<number[]> {
  const times: number[] = [];
  while (!done() || times.length < atLeast) {
    const started = performance.now();
    try {
      const list = await client.call(api.checklists.get, { key: "probe" });
      if (list?.key !== "probe") throw new Error("the probe checklist came back wrong");
    } catch (err) {
      failures.push(`the well-behaved client's call failed: ${(err as Error).message}`);
      return times;
    }
    times.push(performance.now() - started);
  }
  return times;
}

/** The storm with a well-behaved client calling throughout; then whether the daemon lives, answers, and gives its memory back. */
async function stormAndMeasure(
  owner: FleetConnection,
  pid: number,
  alive: () => boolean,
  inspector: string,
  config: () => StormConfig,
  failures: string[],
  say: (line: string) => void,
): Promise<{ summary: StormSummary; latency: FuzzReport["latency"]; liveHeap: FuzzReport["liveHeap"]; beforeKb: number; peakKb: number; afterKb: number }> {
  const beforeMb = await liveHeapAfterFullGc(inspector);
  const beforeKb = rssKb(pid);
  const idle = await keepCalling(owner, () => true, failures, 300);
  const idleP99Ms = p99(idle);
  say(`idle: live heap ${beforeMb.toFixed(1)} MB, RSS ${beforeKb} kB, p99 call ${idleP99Ms.toFixed(2)} ms; storming…`);

  let stormDone = false;
  let peakKb = beforeKb;
  const sampler = setInterval(() => (peakKb = Math.max(peakKb, rssKb(pid))), 200);
  const [summary, during] = await Promise.all([storm(config()).finally(() => (stormDone = true)), keepCalling(owner, () => stormDone, failures)]);
  clearInterval(sampler);
  failures.push(...summary.failures);
  if (summary.failureCount > summary.failures.length) failures.push(`… and ${summary.failureCount - summary.failures.length} more frame failures`);
  const stormP99Ms = p99(during);
  const latency = { idleP99Ms, stormP99Ms, stormCalls: during.length };
  // The idle figure counts from 1 ms: below that, on a quiet machine, one GC pause decides the ratio.
  if (during.length > 0 && stormP99Ms > LATENCY_FACTOR * Math.max(idleP99Ms, 1)) {
    failures.push(`p99 call latency under the storm ${stormP99Ms.toFixed(2)} ms is over ${LATENCY_FACTOR}× the idle ${idleP99Ms.toFixed(2)} ms`);
  }

  // The daemon still runs, is the same process, and answers.
  if (!alive()) {
    failures.push("the daemon crashed or was replaced during the storm");
    return { summary, latency, liveHeap: { beforeMb, afterMb: 0 }, beforeKb, peakKb, afterKb: 0 };
  }
  const info = await owner.call(api.appinfo.get, {}).catch((err: Error) => failures.push(`the daemon does not answer after the storm: ${err.message}`));
  if (typeof info === "object" && info.pid !== pid) failures.push("another daemon answered after the storm");

  // Memory comes back: what a full collection leaves, against the same before the storm.
  const liveHeap = { beforeMb, afterMb: await liveHeapAfterFullGc(inspector) };
  const afterKb = rssKb(pid);
  if (liveHeap.afterMb > liveHeap.beforeMb * (1 + MEMORY_TOLERANCE)) {
    failures.push(
      `the daemon's heap after the storm, ${liveHeap.afterMb.toFixed(1)} MB after a full collection, is over ${MEMORY_TOLERANCE * 100}% above the ${liveHeap.beforeMb.toFixed(1)} MB before it`,
    );
  }
  return { summary, latency, liveHeap, beforeKb, peakKb, afterKb };
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const say = options.say ?? (() => {});
  const lanes = options.lanes ?? { loopback: 3, network: 2, link: 1 };
  const failures: string[] = [];
  const home = createHome("ocf-fuzz-");
  const projects = mkdtempSync(join(tmpdir(), "ocf-fuzz-project-"));
  try {
    // The daemon runs with the V8 inspector on loopback (heap.ts): the memory check asks it for a full collection.
    const started = await runCli(home, ["daemon", "start"], {
      env: { OCFLEET_DAEMON_NODE_FLAGS: `--inspect=127.0.0.1:0 ${process.env.OCFLEET_DAEMON_NODE_FLAGS ?? ""}` },
    });
    if (started.code !== 0) throw new Error(`daemon start failed: ${started.stderr}`);
    const daemonLog = () => readFileSync(statePaths(home).log, "utf8");
    const inspector = inspectorUrl(daemonLog());
    if (!inspector) throw new Error("the daemon's log does not say where its inspector listens");
    const { owner, url, fingerprint, target } = await startHubTarget(home, projects);
    await owner.call(api.checklists.addItem, { key: "probe", text: "still answering" });
    const { pid, port, token } = daemonState(home)!;
    const config = (seed: number, hostileFrames: number, seconds: number): StormConfig => ({
      seed,
      hostileFrames,
      deadline: Date.now() + seconds * 1000,
      loopback: { port, token, lanes: lanes.loopback },
      network: { url, fingerprint, lanes: lanes.network },
      link: { ...target, lanes: lanes.link },
    });

    const startedKb = rssKb(pid);
    // Warm up every path the storm takes, so the baseline is the daemon at work, not just started.
    const warmUpFrames = Math.max(WARM_UP_FRAMES, Math.ceil(options.hostileFrames / 2));
    say(`warming up (${warmUpFrames} frames)…`);
    const warmUp = await storm(config(options.seed ^ 0x5eed, warmUpFrames, 120));
    if (warmUp.failureCount > 0) failures.push(...warmUp.failures.map((f) => `warm-up: ${f}`));
    const alive = () => isPidAlive(pid) && daemonState(home)?.pid === pid;
    let summary: StormSummary | null = null;
    let latency = { idleP99Ms: 0, stormP99Ms: 0, stormCalls: 0 };
    let [beforeKb, peakKb, afterKb] = [0, 0, 0];
    let liveHeap = { beforeMb: 0, afterMb: 0 };
    if (alive()) {
      ({ summary, latency, liveHeap, beforeKb, peakKb, afterKb } = await stormAndMeasure(
        owner,
        pid,
        alive,
        inspector,
        () => config(options.seed, options.hostileFrames, options.seconds),
        failures,
        say,
      ));
    } else {
      failures.push("the daemon crashed during the warm-up");
    }
    owner.close();

    await killDaemon(home, "SIGTERM");
    const log = daemonLog();
    if (/uncaught exception|unhandled rejection/.test(log)) failures.push("the daemon log has an uncaught exception or unhandled rejection");
    // What the daemon said went wrong, to start from when a check failed.
    if (failures.length > 0)
      failures.push(
        ...log
          .split("\n")
          .filter((line) => / (ERROR|WARN) /.test(line))
          .slice(-15)
          .map((line) => `daemon log: ${line.slice(0, 400)}`),
      );
    const db = new Database(statePaths(home).db, { readonly: true });
    const integrity = db.pragma("integrity_check", { simple: true });
    db.close();
    if (integrity !== "ok") failures.push(`PRAGMA integrity_check says: ${String(integrity)}`);

    return { seed: options.seed, storm: summary ?? warmUp, rss: { startedKb, beforeKb, peakKb, afterKb }, liveHeap, latency, failures };
  } finally {
    await cleanupHomes();
    rmSync(projects, { recursive: true, force: true });
  }
}

/** The summary `npm run fuzz` prints. */
export function formatReport(report: FuzzReport): string {
  const { storm: s, rss, latency } = report;
  const lines = [
    `seed ${report.seed}: ${s.hostileFrames} hostile frames (+${s.goodFrames} good) in ${(s.elapsedMs / 1000).toFixed(1)} s`,
    `answered: ${s.errors} errors, ${s.closes} closes; crashes=${report.failures.some((f) => f.includes("crashed")) ? 1 : 0}`,
    `error codes: ${JSON.stringify(s.errorCodes)}; close codes: ${JSON.stringify(s.closeCodes)}`,
    `JS heap after a full GC: ${report.liveHeap.beforeMb.toFixed(1)} MB before, ${report.liveHeap.afterMb.toFixed(1)} MB after (limit +${MEMORY_TOLERANCE * 100}%)`,
    `RSS: ${rss.beforeKb} kB before (${rss.startedKb} kB before the warm-up), ${rss.peakKb} kB at peak, ${rss.afterKb} kB after (information)`,
    `p99 call: ${latency.idleP99Ms.toFixed(2)} ms idle, ${latency.stormP99Ms.toFixed(2)} ms under fuzz (${latency.stormCalls} calls)`,
    "frames by kind (sent / errors / closes / replies):",
    ...Object.entries(s.byLabel)
      .sort((a, b) => b[1].sent - a[1].sent)
      .map(([label, c]) => `  ${label.padEnd(32)} ${c.sent} / ${c.errors} / ${c.closes} / ${c.replies}`),
    report.failures.length === 0 ? "all checks held" : `FAILED:\n${report.failures.map((f) => `  ${f}`).join("\n")}`,
  ];
  return lines.join("\n");
}
