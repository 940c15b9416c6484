// The supervisor: runs each worker's `opencode serve`, tracks its run state, restarts it with
// backoff when it dies, writes its output to a log file, and stops it cleanly with its tools.
import { createWriteStream, mkdirSync, renameSync, rmSync, statSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { FleetError } from "../../protocol/errors.js";
import { descendantsOf, processStartTime, waitForExit } from "../../platform/processes.js";
import type { Logger } from "../log.js";
import type { WorkerRuntime, WorkerSpec } from "./link.js";
import { OPENCODE_SDK_VERSION, OpencodeServer, resolveOpencodeBinary, type OpencodeEvent, type OpencodeModel } from "./opencode.js";
import { AGENT_MARK, killMarked, killRecorded, WORKER_MARK, type ProcessRecords } from "./reaper.js";

export interface SupervisorOptions {
  logDir: string;
  log: Logger;
  records: ProcessRecords;
  /** This agent's environment marker (reaper.ts). */
  agentMark: string;
  /** The umask OpenCode and its tools run with (the user's, not the daemon's 077). */
  workerUmask?: number;
  onRuntime(workerId: string, runtime: WorkerRuntime): void;
  onModels(workerId: string, models: OpencodeModel[]): void;
  onEvent(workerId: string, event: OpencodeEvent): void;
  /** First restart delay; doubles per consecutive failure. */
  backoffMs?: number;
  readyTimeoutMs?: number;
  eventsRetryMs?: number;
}

/** Consecutive failures after which a worker stays in `error` instead of restarting. */
const MAX_CONSECUTIVE_FAILURES = 5;
/** A run that lasted this long was healthy: the next failure counts from one again. */
const STABLE_RUN_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;
const HEALTH_INTERVAL_MS = 15_000;
/** While a worker is busy, look for new tool processes this often. */
const CENSUS_INTERVAL_MS = 2000;
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;
/** Lines of output kept in memory to explain a failure. */
const RECENT_LINES = 40;

class ManagedWorker {
  server: OpencodeServer | null = null;
  /** The OpenCode process while it starts, before `server` exists. */
  starting: number | null = null;
  runtime: WorkerRuntime = { runState: "offline", reason: "not started", pid: null, startedAt: null, restartCount: 0, opencodeVersion: null };
  wanted = false;
  stopping: Promise<void> | null = null;
  launching = false;
  failures = 0;
  busy = new Set<string>();
  recent: string[] = [];
  restartTimer: NodeJS.Timeout | undefined;
  healthTimer: NodeJS.Timeout | undefined;
  censusTimer: NodeJS.Timeout | undefined;
  logStream: WriteStream | null = null;

  constructor(public spec: WorkerSpec) {}
}

export class Supervisor {
  private readonly workers = new Map<string, ManagedWorker>();
  private readonly backoffMs: number;
  private readonly readyTimeoutMs: number;

  constructor(private readonly options: SupervisorOptions) {
    this.backoffMs = options.backoffMs ?? 1000;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    mkdirSync(options.logDir, { recursive: true, mode: 0o700 });
  }

  runtimeOf(workerId: string): WorkerRuntime | null {
    return this.workers.get(workerId)?.runtime ?? null;
  }

  /** The worker's running OpenCode, or an `unavailable` error that says what state it is in. */
  serverOf(workerId: string): OpencodeServer {
    const worker = this.workers.get(workerId);
    const state = worker?.runtime.runState ?? "offline";
    if (!worker?.server || (state !== "idle" && state !== "active")) {
      throw new FleetError(
        "unavailable",
        `the worker is ${state}${worker?.runtime.reason ? ` (${worker.runtime.reason.split("\n")[0]})` : ""}; it cannot take requests now`,
      );
    }
    return worker.server;
  }

  /** Starts a worker. Refuses one that is already running or starting. */
  /** Every worker this agent knows of and its state now, for a hub that (re)links. */
  runtimes(): Array<[string, WorkerRuntime]> {
    return [...this.workers].map(([id, worker]) => [id, worker.runtime]);
  }

  start(spec: WorkerSpec): WorkerRuntime {
    const worker = this.managed(spec);
    if (worker.wanted && worker.runtime.runState !== "error") {
      throw new FleetError("failed_precondition", `the worker is already running (${worker.runtime.runState})`);
    }
    if (worker.stopping) throw new FleetError("failed_precondition", "the worker is still stopping; try again in a moment");
    this.want(worker, spec, "starting OpenCode");
    return worker.runtime;
  }

  async stop(workerId: string): Promise<WorkerRuntime> {
    const worker = this.workers.get(workerId);
    if (!worker || (!worker.wanted && !worker.server)) {
      throw new FleetError("failed_precondition", "the worker is not running");
    }
    this.unwant(worker);
    await this.terminate(worker);
    this.setRuntime(worker, { runState: "offline", reason: "stopped", pid: null, startedAt: null });
    return worker.runtime;
  }

  async restart(spec: WorkerSpec): Promise<WorkerRuntime> {
    const running = this.workers.get(spec.id);
    if (running) {
      this.unwant(running);
      await this.terminate(running);
    }
    // Looked up again: the worker may have been removed while it was stopping.
    const worker = this.managed(spec);
    this.want(worker, spec, "restarting OpenCode");
    return worker.runtime;
  }

  async remove(workerId: string): Promise<void> {
    const worker = this.workers.get(workerId);
    if (worker) {
      this.unwant(worker);
      await this.terminate(worker);
      worker.logStream?.end();
      this.workers.delete(workerId);
    }
    this.options.records.forget(workerId);
    rmSync(this.logPath(workerId), { force: true });
    rmSync(`${this.logPath(workerId)}.1`, { force: true });
  }

  logPath(workerId: string): string {
    return join(this.options.logDir, `${workerId}.log`);
  }

  /** Stops every worker, in parallel, within the time given. Their wanted state is kept for the next start. */
  async shutdown(budgetMs: number): Promise<void> {
    const all = [...this.workers.values()];
    for (const worker of all) this.unwant(worker);
    await Promise.race([Promise.allSettled(all.map((w) => this.terminate(w))), new Promise((resolve) => setTimeout(resolve, budgetMs))]);
    for (const worker of all) {
      this.setRuntime(worker, { runState: "offline", reason: "daemon stopped", pid: null, startedAt: null });
      worker.logStream?.end();
    }
  }

  private managed(spec: WorkerSpec): ManagedWorker {
    const worker = this.workers.get(spec.id) ?? new ManagedWorker(spec);
    this.workers.set(spec.id, worker);
    return worker;
  }

  /** Wants the worker running with this spec, counting failures afresh. */
  private want(worker: ManagedWorker, spec: WorkerSpec, reason: string): void {
    worker.spec = spec;
    worker.wanted = true;
    worker.failures = 0;
    void this.launch(worker, reason);
  }

  /** Stops wanting the worker: a pending restart is cancelled and no new one is scheduled. */
  private unwant(worker: ManagedWorker): void {
    worker.wanted = false;
    clearTimeout(worker.restartTimer);
  }

  private async launch(worker: ManagedWorker, reason: string): Promise<void> {
    if (worker.launching || !worker.wanted) return;
    worker.launching = true;
    const startedAt = Date.now();
    this.setRuntime(worker, { runState: "starting", reason, pid: null, startedAt: null });
    this.openLog(worker);
    let server: OpencodeServer | undefined;
    try {
      const binary = resolveOpencodeBinary(worker.spec.opencodeBinary);
      this.writeLog(worker, `--- ocfleet: starting ${binary.path} serve in ${worker.spec.directory} (${binary.source})`);
      server = await OpencodeServer.start({
        binary,
        directory: worker.spec.directory,
        env: {
          ...process.env,
          OPENCODE_DISABLE_AUTOUPDATE: "1",
          ...worker.spec.env,
          // Set last, so no overlay can hide a process from the reaper.
          [AGENT_MARK]: this.options.agentMark,
          [WORKER_MARK]: worker.spec.id,
        },
        umask: this.options.workerUmask,
        readyTimeoutMs: this.readyTimeoutMs,
        eventsRetryMs: this.options.eventsRetryMs,
        onOutput: (line) => this.writeLog(worker, line),
        onEvent: (event) => this.handleEvent(worker, event),
        onSpawn: (pid) => {
          worker.starting = pid;
          const startTime = processStartTime(pid);
          if (startTime) this.options.records.record(worker.spec.id, "opencode", pid, startTime);
        },
      });
      worker.starting = null;
      if (!worker.wanted) {
        // Stopped while it was starting; terminate() could not see this server yet.
        await this.killServer(worker, server);
        return;
      }
      worker.server = server;
      const pid = server.pid;
      server.subprocess.once("exit", (code, signal) => void this.exited(worker, server!, startedAt, signal ?? `code ${code}`));
      // Ready means answering requests and streaming events: a reply to a prompt sent before the
      // event stream connects would never be seen.
      const [health, models] = await Promise.all([server.health(), server.listModels(), server.waitForEvents(this.readyTimeoutMs)]);
      if (health.version !== OPENCODE_SDK_VERSION) {
        this.options.log.warn("OpenCode version differs from the SDK ocfleet was built with", {
          worker: worker.spec.id,
          opencode: health.version,
          sdk: OPENCODE_SDK_VERSION,
        });
        this.writeLog(worker, `--- ocfleet: warning: OpenCode ${health.version} is not ${OPENCODE_SDK_VERSION}, the version ocfleet was built for`);
      }
      this.options.onModels(worker.spec.id, models);
      worker.busy = new Set(await server.busySessions());
      if (worker.server !== server) return; // stopped while starting: terminate() took care of it
      this.setRuntime(worker, {
        runState: worker.busy.size > 0 ? "active" : "idle",
        reason: null,
        pid,
        startedAt: Date.now(),
        opencodeVersion: health.version,
      });
      worker.healthTimer = setInterval(() => void this.checkHealth(worker, server!), HEALTH_INTERVAL_MS);
      worker.healthTimer.unref();
    } catch (err) {
      worker.starting = null;
      const message = err instanceof Error ? err.message : String(err);
      this.writeLog(worker, `--- ocfleet: start failed: ${message}`);
      if (server && worker.server === server) {
        worker.server = null;
        await this.killServer(worker, server);
      }
      // A setting that cannot work (no such binary) is not worth retrying.
      const permanent = err instanceof FleetError;
      this.failed(worker, message, startedAt, permanent);
    } finally {
      worker.launching = false;
    }
  }

  private async exited(worker: ManagedWorker, server: OpencodeServer, startedAt: number, how: string): Promise<void> {
    this.options.records.forPid(server.pid);
    if (worker.server !== server) return; // an expected exit, during a stop
    worker.server = null;
    this.clearTimers(worker);
    server.detach();
    this.writeLog(worker, `--- ocfleet: OpenCode exited (${how})`);
    await this.killTools(worker);
    if (!worker.wanted) return;
    this.failed(worker, `OpenCode exited (${how})`, startedAt, false);
  }

  /** Counts a failure, then restarts with backoff or gives up into `error`. */
  private failed(worker: ManagedWorker, why: string, startedAt: number, permanent: boolean): void {
    worker.failures = Date.now() - startedAt > STABLE_RUN_MS ? 1 : worker.failures + 1;
    if (!worker.wanted) return;
    if (permanent || worker.failures >= MAX_CONSECUTIVE_FAILURES) {
      worker.wanted = false;
      const output = worker.recent
        .filter((line) => !line.startsWith("--- ocfleet"))
        .slice(-10)
        .join("\n");
      const reason = permanent ? why : `OpenCode failed ${worker.failures} times in a row: ${why}${output ? `\nlast output:\n${output}` : ""}`;
      this.setRuntime(worker, { runState: "error", reason, pid: null, startedAt: null });
      this.options.log.warn("worker gave up", { worker: worker.spec.id, reason: why });
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2 ** (worker.failures - 1));
    this.setRuntime(worker, { runState: "starting", reason: `${why}; restarting in ${(delay / 1000).toFixed(1)} s`, pid: null, startedAt: null });
    worker.restartTimer = setTimeout(() => {
      worker.runtime = { ...worker.runtime, restartCount: worker.runtime.restartCount + 1 };
      void this.launch(worker, `restart ${worker.runtime.restartCount} after: ${why}`);
    }, delay);
  }

  private async checkHealth(worker: ManagedWorker, server: OpencodeServer): Promise<void> {
    if (worker.server !== server) return;
    try {
      await server.health();
    } catch (err) {
      this.writeLog(worker, `--- ocfleet: health check failed (${err instanceof Error ? err.message : String(err)}); killing it`);
      server.subprocess.kill("SIGKILL"); // the exit handler restarts it
    }
  }

  private handleEvent(worker: ManagedWorker, event: OpencodeEvent): void {
    if (event.type === "session.status") {
      if (event.status.type === "idle") worker.busy.delete(event.sessionId);
      else worker.busy.add(event.sessionId);
      this.updateActivity(worker);
    } else if (event.type === "session.idle") {
      worker.busy.delete(event.sessionId);
      this.updateActivity(worker);
    } else if (event.type === "events.resumed") {
      // Status changes during the break were missed: ask for the busy sessions again.
      const server = worker.server;
      server
        ?.busySessions()
        .then((busy) => {
          if (worker.server !== server) return;
          worker.busy = new Set(busy);
          this.updateActivity(worker);
        })
        .catch((err: unknown) => this.writeLog(worker, `--- ocfleet: could not re-read busy sessions: ${err instanceof Error ? err.message : String(err)}`));
    }
    this.options.onEvent(worker.spec.id, event);
  }

  /** Active while any session is busy; while active, tool processes are recorded as they appear. */
  private updateActivity(worker: ManagedWorker): void {
    const state = worker.runtime.runState;
    if (state !== "idle" && state !== "active") return;
    const next = worker.busy.size > 0 ? "active" : "idle";
    if (next === "active" && !worker.censusTimer) {
      worker.censusTimer = setInterval(() => this.recordTools(worker), CENSUS_INTERVAL_MS);
      worker.censusTimer.unref();
      setImmediate(() => this.recordTools(worker));
    }
    if (next === "idle" && worker.censusTimer) {
      clearInterval(worker.censusTimer);
      worker.censusTimer = undefined;
      this.recordTools(worker);
    }
    if (next !== state) this.setRuntime(worker, { runState: next });
  }

  /** Records the OpenCode process's descendants: tools it started, which it leaves behind on exit. */
  private recordTools(worker: ManagedWorker): void {
    const server = worker.server;
    if (!server) return;
    for (const child of descendantsOf(server.pid)) this.options.records.record(worker.spec.id, "tool", child.pid, child.startTime);
  }

  /** Abort, dispose, SIGTERM, SIGKILL after a grace period, then the tools it left behind. */
  private async terminate(worker: ManagedWorker): Promise<void> {
    if (worker.stopping) return worker.stopping;
    const server = worker.server;
    if (!server) {
      // Still starting: no API to be polite to yet, but the process exists and must go.
      const pid = worker.starting;
      if (pid !== null) {
        signalGroup(pid, "SIGTERM");
        if (!(await waitForExit(pid, 1500))) signalGroup(pid, "SIGKILL");
        this.options.records.forPid(pid);
        this.writeLog(worker, "--- ocfleet: OpenCode stopped while it was starting");
      }
      await this.killTools(worker);
      return;
    }
    worker.stopping = (async () => {
      worker.server = null;
      this.clearTimers(worker);
      this.recordTools(worker);
      const busy = [...worker.busy];
      await Promise.allSettled(busy.map((sessionId) => server.abort(sessionId, 800)));
      await server.dispose(800).catch(() => undefined);
      await this.killServer(worker, server);
      await this.killTools(worker);
      worker.busy.clear();
    })();
    try {
      await worker.stopping;
    } finally {
      worker.stopping = null;
    }
  }

  private async killServer(worker: ManagedWorker, server: OpencodeServer): Promise<void> {
    server.detach();
    signalGroup(server.pid, "SIGTERM");
    if (!(await waitForExit(server.pid, 1500))) {
      signalGroup(server.pid, "SIGKILL");
      await waitForExit(server.pid, 1000);
    }
    this.options.records.forPid(server.pid);
    this.writeLog(worker, "--- ocfleet: OpenCode stopped");
  }

  private async killTools(worker: ManagedWorker): Promise<void> {
    for (const row of this.options.records.list(worker.spec.id)) {
      if (row.kind !== "tool") continue;
      if (killRecorded(row)) this.writeLog(worker, `--- ocfleet: killed tool process ${row.pid} that OpenCode left behind`);
      this.options.records.forPid(row.pid);
    }
    // Tools the census never saw (started between two of its looks) still carry the worker's marker.
    for (const pid of killMarked(this.options.agentMark, worker.spec.id)) {
      this.writeLog(worker, `--- ocfleet: killed process ${pid} that OpenCode left behind (found by its environment marker)`);
    }
  }

  private clearTimers(worker: ManagedWorker): void {
    clearInterval(worker.healthTimer);
    clearInterval(worker.censusTimer);
    worker.healthTimer = undefined;
    worker.censusTimer = undefined;
  }

  private setRuntime(worker: ManagedWorker, change: Partial<WorkerRuntime>): void {
    worker.runtime = { ...worker.runtime, ...change };
    this.options.onRuntime(worker.spec.id, worker.runtime);
  }

  private openLog(worker: ManagedWorker): void {
    if (worker.logStream) return;
    const path = this.logPath(worker.spec.id);
    try {
      if (statSync(path).size > LOG_ROTATE_BYTES) renameSync(path, `${path}.1`);
    } catch {
      // no log yet
    }
    worker.logStream = createWriteStream(path, { flags: "a", mode: 0o600 });
  }

  private writeLog(worker: ManagedWorker, line: string): void {
    worker.recent.push(line);
    if (worker.recent.length > RECENT_LINES) worker.recent.shift();
    worker.logStream?.write(`${line}\n`);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // its process group: OpenCode and the children that stayed in it
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
