// The supervisor: runs the `opencode serve` processes this machine's workers need (one per group of
// workers that may share one, see process-group.ts), maps each worker's lifecycle onto its process,
// restarts a process with backoff when it dies, fans its events and output out to its workers, and
// stops a worker cleanly with its tools while its neighbours go on.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { FleetError } from "../../protocol/errors.js";
import { processStartTime, waitForExit } from "../../platform/processes.js";
import type { Logger } from "../log.js";
import type { WorkerRuntime, WorkerSpec } from "./link.js";
import { OPENCODE_SDK_VERSION, resolveOpencodeBinary, type OpencodeBinary, type OpencodeEvent, type OpencodeModel, type OpencodeServer } from "./opencode.js";
import { OpencodeProcess } from "./opencode-process.js";
import { ProcessGroup, processKey } from "./process-group.js";
import { AGENT_MARK, PROCESS_MARK, type ProcessRecords } from "./reaper.js";
import { killToolsOf, killToolsOfGroup, recordTools, type ToolKiller } from "./tools.js";
import { WorkerLog } from "./worker-log.js";

export interface SupervisorOptions {
  logDir: string;
  log: Logger;
  records: ProcessRecords;
  /** This agent's environment marker (reaper.ts). */
  agentMark: string;
  /** The umask OpenCode and its tools run with (the user's, not the daemon's 077). */
  workerUmask?: number;
  /** Every worker in a process of its own (this machine's setting), as `worker add --isolated` does for one. */
  isolateAll?: boolean;
  /** Where a worker's worktree chats work: their events, output and tools are the worker's. */
  worktreeRoot(workerId: string): string;
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

class ManagedWorker {
  /** Its requests, once its process serves its directory. */
  server: OpencodeServer | null = null;
  group: Group | null = null;
  runtime: WorkerRuntime = { runState: "offline", reason: "not started", pid: null, startedAt: null, restartCount: 0, opencodeVersion: null };
  wanted = false;
  attaching = false;
  leaving: Promise<void> | null = null;
  /** Failures of its own (its directory could not be served), apart from its process's. */
  failures = 0;
  busy = new Set<string>();
  restartTimer: NodeJS.Timeout | undefined;

  constructor(
    public spec: WorkerSpec,
    readonly log: WorkerLog,
  ) {}
}

type Group = ProcessGroup<ManagedWorker>;

export class Supervisor {
  private readonly workers = new Map<string, ManagedWorker>();
  /** Groups by key; a group that is stopping is no longer here (a worker that comes then gets a new one). */
  private readonly groups = new Map<string, Group>();
  private readonly backoffMs: number;
  private readonly readyTimeoutMs: number;
  private readonly killer: ToolKiller;

  constructor(private readonly options: SupervisorOptions) {
    this.backoffMs = options.backoffMs ?? 1000;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    mkdirSync(options.logDir, { recursive: true, mode: 0o700 });
    this.killer = { records: options.records, agentMark: options.agentMark, report: (member, line) => member && (member as ManagedWorker).log.write(line) };
  }

  runtimeOf(workerId: string): WorkerRuntime | null {
    return this.workers.get(workerId)?.runtime ?? null;
  }

  /** The worker's requests to its OpenCode, or an `unavailable` error that says what state it is in. */
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

  /** Every worker this agent knows of and its state now, for a hub that (re)links. */
  runtimes(): Array<[string, WorkerRuntime]> {
    return [...this.workers].map(([id, worker]) => [id, worker.runtime]);
  }

  /** Starts a worker. Refuses one that is already running or starting. */
  start(spec: WorkerSpec): WorkerRuntime {
    const worker = this.managed(spec);
    if (worker.wanted && worker.runtime.runState !== "error") {
      throw new FleetError("failed_precondition", `the worker is already running (${worker.runtime.runState})`);
    }
    if (worker.leaving) throw new FleetError("failed_precondition", "the worker is still stopping; try again in a moment");
    this.want(worker, spec, "starting OpenCode");
    return worker.runtime;
  }

  async stop(workerId: string): Promise<WorkerRuntime> {
    const worker = this.workers.get(workerId);
    if (!worker || (!worker.wanted && !worker.group)) throw new FleetError("failed_precondition", "the worker is not running");
    this.unwant(worker);
    await this.leave(worker);
    this.setRuntime(worker, { runState: "offline", reason: "stopped", pid: null, startedAt: null });
    return worker.runtime;
  }

  async restart(spec: WorkerSpec): Promise<WorkerRuntime> {
    const running = this.workers.get(spec.id);
    if (running) {
      this.unwant(running);
      await this.leave(running);
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
      await this.leave(worker);
      worker.log.end();
      this.workers.delete(workerId);
    }
    this.options.records.forget(workerId);
    new WorkerLog(this.logPath(workerId)).remove();
  }

  logPath(workerId: string): string {
    return join(this.options.logDir, `${workerId}.log`);
  }

  /** Stops every worker, in parallel, within the time given. Their wanted state is kept for the next start. */
  async shutdown(budgetMs: number): Promise<void> {
    const all = [...this.workers.values()];
    for (const worker of all) this.unwant(worker);
    await Promise.race([Promise.allSettled(all.map((w) => this.leave(w))), new Promise((resolve) => setTimeout(resolve, budgetMs))]);
    for (const worker of all) {
      this.setRuntime(worker, { runState: "offline", reason: "daemon stopped", pid: null, startedAt: null });
      worker.log.end();
    }
  }

  private managed(spec: WorkerSpec): ManagedWorker {
    const worker = this.workers.get(spec.id) ?? new ManagedWorker(spec, new WorkerLog(this.logPath(spec.id)));
    this.workers.set(spec.id, worker);
    return worker;
  }

  /** Wants the worker running with this spec, counting failures afresh. */
  private want(worker: ManagedWorker, spec: WorkerSpec, reason: string): void {
    worker.spec = spec;
    worker.wanted = true;
    worker.failures = 0;
    worker.log.open();
    this.setRuntime(worker, { runState: "starting", reason, pid: null, startedAt: null });
    this.join(worker, reason);
  }

  /** Stops wanting the worker: a pending retry is cancelled and no new one is scheduled. */
  private unwant(worker: ManagedWorker): void {
    worker.wanted = false;
    clearTimeout(worker.restartTimer);
  }

  /** Puts the worker into the group its spec belongs to, starting that group's process if it does not run. */
  private join(worker: ManagedWorker, reason: string): void {
    let binary: OpencodeBinary;
    try {
      binary = resolveOpencodeBinary(worker.spec.opencodeBinary);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      worker.log.write(`--- ocfleet: start failed: ${message}`);
      // A setting that cannot work (no such binary) is not worth retrying.
      this.workerFailed(worker, message, err instanceof FleetError);
      return;
    }
    const key = processKey(worker.spec, binary, this.options.isolateAll === true);
    let group = this.groups.get(key);
    if (!group) {
      group = new ProcessGroup<ManagedWorker>(key, binary, worker.spec.env, this.options.worktreeRoot);
      this.groups.set(key, group);
    }
    group.members.set(worker.spec.id, worker);
    worker.group = group;
    if (group.process) void this.attach(worker, group, group.process);
    else if (!group.launching && !group.restartTimer) void this.launch(group, reason);
    // else: the process is starting (or waiting to restart), and serves every member once it is up.
  }

  /** Starts the group's process; once it answers and streams events, serves every member's directory. */
  private async launch(group: Group, reason: string): Promise<void> {
    if (group.launching || group.members.size === 0) return;
    group.launching = true;
    group.startedAt = Date.now();
    group.healthFailures = 0;
    const first = [...group.members.values()][0]!;
    let started: OpencodeProcess | undefined;
    try {
      this.groupLog(group, `--- ocfleet: ${reason}: ${group.binary.path} serve (${group.binary.source}), process ${group.id}`);
      started = await OpencodeProcess.start({
        binary: group.binary,
        cwd: first.spec.directory,
        env: {
          ...process.env,
          OPENCODE_DISABLE_AUTOUPDATE: "1",
          ...group.env,
          // Set last, so no overlay can hide a process from the reaper.
          [AGENT_MARK]: this.options.agentMark,
          [PROCESS_MARK]: group.id,
        },
        umask: this.options.workerUmask,
        readyTimeoutMs: this.readyTimeoutMs,
        eventsRetryMs: this.options.eventsRetryMs,
        onOutput: (line) => this.routeLine(group, line),
        onEvent: (event, directory) => this.routeEvent(group, event, directory),
        onSpawn: (pid) => {
          group.starting = pid;
          const startTime = processStartTime(pid);
          if (startTime) this.options.records.record(group.id, "opencode", pid, startTime);
        },
      });
      group.starting = null;
      const proc = started;
      if (group.members.size === 0 || group.stopping) {
        // Every worker left while it was starting; stopping could not see this process yet.
        await this.killProcess(group, proc, []);
        return;
      }
      group.process = proc;
      proc.subprocess.once("exit", (code, signal) => void this.exited(group, proc, signal ?? `code ${code}`));
      // Ready means answering requests and streaming events: a reply to a prompt sent before the
      // event stream connects would never be seen. The members' first requests go out meanwhile.
      group.ready = Promise.all([proc.health(), proc.waitForEvents(this.readyTimeoutMs)]).then(([health]) => health);
      for (const member of group.members.values()) if (member.wanted && !member.server && !member.attaching) void this.attach(member, group, proc);
      const health = await group.ready;
      if (health.version !== OPENCODE_SDK_VERSION) {
        this.options.log.warn("OpenCode version differs from the SDK ocfleet was built with", {
          process: group.id,
          opencode: health.version,
          sdk: OPENCODE_SDK_VERSION,
        });
        this.groupLog(group, `--- ocfleet: warning: OpenCode ${health.version} is not ${OPENCODE_SDK_VERSION}, the version ocfleet was built for`);
      }
      if (group.process !== proc) return; // stopped meanwhile
      group.healthTimer = setInterval(() => void this.checkHealth(group, proc), HEALTH_INTERVAL_MS);
      group.healthTimer.unref();
    } catch (err) {
      group.starting = null;
      const message = err instanceof Error ? err.message : String(err);
      this.groupLog(group, `--- ocfleet: start failed: ${message}`);
      // An exit during the checks was already counted by the exit handler.
      const counted = started !== undefined && group.process !== started;
      if (started && group.process === started) {
        group.process = null;
        await this.killProcess(group, started, []);
      }
      if (!counted) this.groupFailed(group, message, err instanceof FleetError);
      return;
    } finally {
      group.launching = false;
    }
  }

  /** A worker's start in a running process: the first requests for its directory (OpenCode creates its instance). */
  private async attach(worker: ManagedWorker, group: Group, proc: OpencodeProcess): Promise<void> {
    worker.attaching = true;
    const server = proc.serverFor(worker.spec.directory);
    const current = () => worker.group === group && group.process === proc && worker.wanted;
    const ready = group.ready!;
    try {
      const [models, busy, { version }] = await Promise.all([server.listModels(), server.busySessions(), ready]);
      if (!current()) return;
      this.options.onModels(worker.spec.id, models);
      worker.server = server;
      worker.busy = new Set(busy);
      const others = group.members.size - 1;
      worker.log.write(
        `--- ocfleet: serving ${worker.spec.directory} in OpenCode process ${proc.pid}${others > 0 ? `, shared with ${others} other worker(s)` : ""}`,
      );
      this.setRuntime(worker, {
        runState: busy.length > 0 ? "active" : "idle",
        reason: null,
        pid: proc.pid,
        startedAt: Date.now(),
        opencodeVersion: version,
      });
      this.updateCensus(group);
    } catch (err) {
      // A process that never became ready is the process's failure (launch counts it), not the worker's.
      if (
        !current() ||
        !(await ready.then(
          () => true,
          () => false,
        ))
      )
        return;
      const message = err instanceof Error ? err.message : String(err);
      worker.log.write(`--- ocfleet: start failed: ${message}`);
      this.workerFailed(worker, message, false);
    } finally {
      worker.attaching = false;
    }
  }

  /** The process ended. Unexpected: every member is marked, its tools go, and it restarts with backoff. */
  private async exited(group: Group, proc: OpencodeProcess, how: string): Promise<void> {
    this.options.records.forPid(proc.pid);
    if (group.process !== proc) return; // an expected exit, during a stop
    group.process = null;
    this.clearTimers(group);
    proc.detach();
    const members = [...group.members.values()];
    for (const member of members) {
      member.server = null;
      member.busy.clear();
      member.log.write(`--- ocfleet: OpenCode exited (${how})`);
    }
    killToolsOfGroup(this.killer, group, members);
    this.groupFailed(group, `OpenCode exited (${how})`, false);
  }

  /** Counts a failure of the process, then restarts it with backoff or gives up into `error` for every member. */
  private groupFailed(group: Group, why: string, permanent: boolean): void {
    group.failures = Date.now() - group.startedAt > STABLE_RUN_MS ? 1 : group.failures + 1;
    const members = [...group.members.values()].filter((m) => m.wanted);
    if (members.length === 0) {
      this.dropGroup(group);
      return;
    }
    if (permanent || group.failures >= MAX_CONSECUTIVE_FAILURES) {
      this.dropGroup(group);
      const output = group.recent
        .filter((line) => !line.startsWith("--- ocfleet"))
        .slice(-10)
        .join("\n");
      const reason = permanent ? why : `OpenCode failed ${group.failures} times in a row: ${why}${output ? `\nlast output:\n${output}` : ""}`;
      for (const member of members) {
        member.wanted = false;
        member.group = null;
        this.setRuntime(member, { runState: "error", reason, pid: null, startedAt: null });
        this.options.log.warn("worker gave up", { worker: member.spec.id, reason: why });
      }
      group.members.clear();
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2 ** (group.failures - 1));
    for (const member of members) {
      this.setRuntime(member, { runState: "starting", reason: `${why}; restarting in ${(delay / 1000).toFixed(1)} s`, pid: null, startedAt: null });
    }
    group.restartTimer = setTimeout(() => {
      group.restartTimer = undefined;
      for (const member of group.members.values()) {
        member.runtime = { ...member.runtime, restartCount: member.runtime.restartCount + 1 };
        this.setRuntime(member, { reason: `restart ${member.runtime.restartCount} after: ${why}` });
      }
      void this.launch(group, `restart after: ${why}`);
    }, delay);
  }

  /** A failure of one worker in a process that runs (or of its settings): retried with backoff, alone. */
  private workerFailed(worker: ManagedWorker, why: string, permanent: boolean): void {
    worker.failures++;
    if (!worker.wanted) return;
    if (permanent || worker.failures >= MAX_CONSECUTIVE_FAILURES) {
      worker.wanted = false;
      const output = worker.log.recent
        .filter((line) => !line.startsWith("--- ocfleet"))
        .slice(-10)
        .join("\n");
      const reason = permanent ? why : `OpenCode failed ${worker.failures} times in a row: ${why}${output ? `\nlast output:\n${output}` : ""}`;
      void this.leave(worker);
      this.setRuntime(worker, { runState: "error", reason, pid: null, startedAt: null });
      this.options.log.warn("worker gave up", { worker: worker.spec.id, reason: why });
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2 ** (worker.failures - 1));
    this.setRuntime(worker, { runState: "starting", reason: `${why}; retrying in ${(delay / 1000).toFixed(1)} s`, pid: null, startedAt: null });
    worker.restartTimer = setTimeout(() => {
      worker.runtime = { ...worker.runtime, restartCount: worker.runtime.restartCount + 1 };
      const group = worker.group;
      if (!worker.wanted) return;
      if (group?.process) void this.attach(worker, group, group.process);
      else if (!group) this.join(worker, `restart ${worker.runtime.restartCount} after: ${why}`);
    }, delay);
  }

  /** A process that fails two health checks in a row is killed (and so restarted): a false kill costs every worker in it. */
  private async checkHealth(group: Group, proc: OpencodeProcess): Promise<void> {
    if (group.process !== proc) return;
    try {
      await proc.health();
      group.healthFailures = 0;
    } catch (err) {
      if (group.process !== proc) return;
      const why = err instanceof Error ? err.message : String(err);
      if (++group.healthFailures < 2) return this.groupLog(group, `--- ocfleet: health check failed (${why}); trying again`);
      this.groupLog(group, `--- ocfleet: health check failed twice (${why}); killing it`);
      proc.subprocess.kill("SIGKILL"); // the exit handler restarts it
    }
  }

  /** An event of the process goes to the worker whose directory it came from; a resumed stream concerns them all. */
  private routeEvent(group: Group, event: OpencodeEvent, directory: string | null): void {
    if (event.type === "events.resumed") {
      for (const member of group.members.values()) this.handleEvent(member, event);
      return;
    }
    const owner = group.ownerOf(directory);
    if (!owner) return; // a directory none of its workers serves (one that just left)
    if (directory) owner.server?.noteDirectory(directory);
    this.handleEvent(owner, event);
  }

  /** A line of the process's output goes to the log of the worker it names; a process-wide line to all of them, marked. */
  private routeLine(group: Group, line: string): void {
    group.remember(line);
    const members = [...group.members.values()];
    if (members.length === 1) return members[0]!.log.write(line);
    const owner = group.ownerOfLine(line);
    if (owner) owner.log.write(line);
    else for (const member of members) member.log.write(`[shared process ${group.pid ?? "-"}] ${line}`);
  }

  private groupLog(group: Group, line: string): void {
    group.remember(line);
    for (const member of group.members.values()) member.log.write(line);
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
        .catch((err: unknown) => worker.log.write(`--- ocfleet: could not re-read busy sessions: ${err instanceof Error ? err.message : String(err)}`));
    }
    this.options.onEvent(worker.spec.id, event);
  }

  /** Active while any of its sessions is busy. */
  private updateActivity(worker: ManagedWorker): void {
    const state = worker.runtime.runState;
    if (state !== "idle" && state !== "active") return;
    const next = worker.busy.size > 0 ? "active" : "idle";
    if (next !== state) this.setRuntime(worker, { runState: next });
    if (worker.group) this.updateCensus(worker.group);
  }

  /** While any member is busy, tool processes are recorded as they appear; once all are idle, one last look. */
  private updateCensus(group: Group): void {
    const busy = [...group.members.values()].some((m) => m.busy.size > 0);
    if (busy && !group.censusTimer) {
      group.censusTimer = setInterval(() => recordTools(this.options.records, group), CENSUS_INTERVAL_MS);
      group.censusTimer.unref();
      setImmediate(() => recordTools(this.options.records, group));
    }
    if (!busy && group.censusTimer) {
      clearInterval(group.censusTimer);
      group.censusTimer = undefined;
      recordTools(this.options.records, group);
    }
  }

  /**
   * A worker leaves its process: its busy sessions are aborted, its directory's instance disposed
   * and its tools killed; the process goes on for the others. The last one to leave stops it.
   */
  private async leave(worker: ManagedWorker): Promise<void> {
    if (worker.leaving) return worker.leaving;
    const group = worker.group;
    if (!group) return;
    worker.leaving = (async () => {
      const server = worker.server;
      worker.server = null;
      const busy = [...worker.busy];
      worker.busy.clear();
      if (server && group.process) {
        recordTools(this.options.records, group);
        await Promise.allSettled(busy.map((sessionId) => server.abort(sessionId, 800)));
        await server.dispose(800).catch(() => undefined);
      }
      group.members.delete(worker.spec.id);
      worker.group = null;
      if (group.members.size === 0) await this.stopGroup(group, worker);
      else {
        killToolsOf(this.killer, group, worker);
        worker.log.write(`--- ocfleet: left OpenCode process ${group.pid ?? "-"}, which goes on for ${group.members.size} other worker(s)`);
        this.updateCensus(group);
      }
    })();
    try {
      await worker.leaving;
    } finally {
      worker.leaving = null;
    }
  }

  /** Stops a group's process (its last member left): SIGTERM, SIGKILL after a grace period, then the tools left behind. */
  private async stopGroup(group: Group, last: ManagedWorker): Promise<void> {
    this.dropGroup(group);
    clearTimeout(group.restartTimer);
    group.restartTimer = undefined;
    this.clearTimers(group);
    if (group.stopping) return group.stopping;
    group.stopping = (async () => {
      const proc = group.process;
      group.process = null;
      if (proc) await this.killProcess(group, proc, [last]);
      else if (group.starting !== null) {
        // Still starting: no API to be polite to yet, but the process exists and must go.
        const pid = group.starting;
        signalGroup(pid, "SIGTERM");
        if (!(await waitForExit(pid, 1500))) signalGroup(pid, "SIGKILL");
        this.options.records.forPid(pid);
        last.log.write("--- ocfleet: OpenCode stopped while it was starting");
      }
      killToolsOfGroup(this.killer, group, [last]);
    })();
    await group.stopping;
  }

  private async killProcess(group: Group, proc: OpencodeProcess, leaving: ManagedWorker[]): Promise<void> {
    proc.detach();
    signalGroup(proc.pid, "SIGTERM");
    if (!(await waitForExit(proc.pid, 1500))) {
      signalGroup(proc.pid, "SIGKILL");
      await waitForExit(proc.pid, 1000);
    }
    this.options.records.forPid(proc.pid);
    for (const member of [...group.members.values(), ...leaving]) member.log.write("--- ocfleet: OpenCode stopped");
  }

  private dropGroup(group: Group): void {
    if (this.groups.get(group.key) === group) this.groups.delete(group.key);
  }

  private clearTimers(group: Group): void {
    clearInterval(group.healthTimer);
    clearInterval(group.censusTimer);
    group.healthTimer = undefined;
    group.censusTimer = undefined;
  }

  private setRuntime(worker: ManagedWorker, change: Partial<WorkerRuntime>): void {
    worker.runtime = { ...worker.runtime, ...change };
    this.options.onRuntime(worker.spec.id, worker.runtime);
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
