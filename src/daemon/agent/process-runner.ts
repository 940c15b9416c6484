// The processes of a machine's worker groups: starting one (and serving its members once it is
// ready), noticing its exit, restarting it with backoff or giving up for all of its workers, its
// health, and stopping it when its last worker leaves. The supervisor (workers) drives it.
import { FleetError } from "../../protocol/errors.js";
import { processStartTime } from "../../platform/processes.js";
import type { Logger } from "../log.js";
import type { Fanout } from "./fanout.js";
import type { WorkerRuntime } from "./link.js";
import type { Group, ManagedWorker } from "./managed-worker.js";
import { OPENCODE_VERSION } from "./opencode.js";
import type { OpencodeProcess } from "./opencode-process.js";
import { AGENT_MARK, PROCESS_MARK, type ProcessRecords } from "./reaper.js";
import { killToolsOfGroup, type ToolKiller } from "./tools.js";

/** Consecutive failures after which a process's workers stay in `error` instead of restarting. */
export const MAX_CONSECUTIVE_FAILURES = 5;
/** A run that lasted this long was healthy: the next failure counts from one again. */
const STABLE_RUN_MS = 60_000;
export const MAX_BACKOFF_MS = 30_000;
const HEALTH_INTERVAL_MS = 15_000;

export interface ProcessRunnerOptions {
  log: Logger;
  records: ProcessRecords;
  agentMark: string;
  workerUmask?: number;
  backoffMs: number;
  readyTimeoutMs: number;
  eventsRetryMs?: number;
}

export interface ProcessRunnerDeps {
  fanout: Fanout;
  killer: ToolKiller;
  /** Serves a member's directory in the process (the supervisor's part of a worker's start). */
  attach(worker: ManagedWorker, group: Group, proc: OpencodeProcess): Promise<void>;
  setRuntime(worker: ManagedWorker, change: Partial<WorkerRuntime>): void;
}

export class ProcessRunner {
  /** Groups by key; a group that is stopping is no longer here (a worker that comes then gets a new one). */
  readonly groups = new Map<string, Group>();

  constructor(
    private readonly options: ProcessRunnerOptions,
    private readonly deps: ProcessRunnerDeps,
  ) {}

  /** Starts the group's process; once it answers and streams events, serves every member's directory. */
  async launch(group: Group, reason: string): Promise<void> {
    if (group.launching || group.members.size === 0) return;
    group.launching = true;
    group.startedAt = Date.now();
    group.healthFailures = 0;
    const first = [...group.members.values()][0]!;
    let started: OpencodeProcess | undefined;
    try {
      this.deps.fanout.groupLog(group, `--- ocfleet: ${reason}: ${group.binary.path} serve (${group.binary.source}), process ${group.id}`);
      // Loaded with the first process: a daemon that never runs a worker does not load execa or the HTTP transport.
      const { OpencodeProcess } = await import("./opencode-process.js");
      // Stopped while the code loaded (the daemon stopping just after it started): nothing runs yet,
      // and a process spawned now would outlive the stop, whose last sweep has already been made.
      if (group.members.size === 0 || group.stopping) return;
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
        readyTimeoutMs: this.options.readyTimeoutMs,
        eventsRetryMs: this.options.eventsRetryMs,
        onOutput: (line) => this.deps.fanout.routeLine(group, line),
        onEvent: (event, directory) => this.deps.fanout.routeEvent(group, event, directory),
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
        await group.kill(proc, this.options.records, []);
        return;
      }
      group.process = proc;
      proc.subprocess.once("exit", (code, signal) => void this.exited(group, proc, signal ?? `code ${code}`));
      // Ready means answering requests and streaming events: a reply to a prompt sent before the
      // event stream connects would never be seen. The members' first requests go out meanwhile.
      group.ready = Promise.all([proc.health(), proc.waitForEvents(this.options.readyTimeoutMs)]).then(([health]) => health);
      for (const member of group.members.values()) if (member.wanted && !member.server && !member.attaching) void this.deps.attach(member, group, proc);
      const health = await group.ready;
      if (health.version !== OPENCODE_VERSION) {
        this.options.log.warn("OpenCode version differs from the one ocfleet was built for", {
          process: group.id,
          opencode: health.version,
          expected: OPENCODE_VERSION,
        });
        this.deps.fanout.groupLog(group, `--- ocfleet: warning: OpenCode ${health.version} is not ${OPENCODE_VERSION}, the version ocfleet was built for`);
      }
      if (group.process !== proc) return; // stopped meanwhile
      group.healthTimer = setInterval(() => void this.checkHealth(group, proc), HEALTH_INTERVAL_MS);
      group.healthTimer.unref();
    } catch (err) {
      group.starting = null;
      const message = err instanceof Error ? err.message : String(err);
      this.deps.fanout.groupLog(group, `--- ocfleet: start failed: ${message}`);
      // An exit during the checks was already counted by the exit handler.
      const counted = started !== undefined && group.process !== started;
      if (started && group.process === started) {
        group.process = null;
        await group.kill(started, this.options.records, []);
      }
      if (!counted) this.groupFailed(group, message, err instanceof FleetError);
      return;
    } finally {
      group.launching = false;
    }
  }

  /** The process ended. Unexpected: every member is marked, its tools go, and it restarts with backoff. */
  private async exited(group: Group, proc: OpencodeProcess, how: string): Promise<void> {
    this.options.records.forPid(proc.pid);
    if (group.process !== proc) return; // an expected exit, during a stop
    group.process = null;
    group.clearTimers();
    proc.detach();
    const members = [...group.members.values()];
    for (const member of members) {
      member.server = null;
      member.busy.clear();
      member.log.write(`--- ocfleet: OpenCode exited (${how})`);
    }
    killToolsOfGroup(this.deps.killer, group, members);
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
        this.deps.setRuntime(member, { runState: "error", reason, pid: null, startedAt: null });
        this.options.log.warn("worker gave up", { worker: member.spec.id, reason: why });
      }
      group.members.clear();
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, this.options.backoffMs * 2 ** (group.failures - 1));
    for (const member of members) {
      this.deps.setRuntime(member, { runState: "starting", reason: `${why}; restarting in ${(delay / 1000).toFixed(1)} s`, pid: null, startedAt: null });
    }
    group.restartTimer = setTimeout(() => {
      group.restartTimer = undefined;
      for (const member of group.members.values()) {
        member.runtime = { ...member.runtime, restartCount: member.runtime.restartCount + 1 };
        this.deps.setRuntime(member, { reason: `restart ${member.runtime.restartCount} after: ${why}` });
      }
      void this.launch(group, `restart after: ${why}`);
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
      if (++group.healthFailures < 2) return this.deps.fanout.groupLog(group, `--- ocfleet: health check failed (${why}); trying again`);
      this.deps.fanout.groupLog(group, `--- ocfleet: health check failed twice (${why}); killing it`);
      proc.subprocess.kill("SIGKILL"); // the exit handler restarts it
    }
  }

  /** Stops a group's process (its last member left): SIGTERM, SIGKILL after a grace period, then the tools left behind. */
  async stopGroup(group: Group, last: ManagedWorker): Promise<void> {
    this.dropGroup(group);
    clearTimeout(group.restartTimer);
    group.restartTimer = undefined;
    group.clearTimers();
    if (group.stopping) return group.stopping;
    group.stopping = (async () => {
      const proc = group.process;
      group.process = null;
      if (proc) await group.kill(proc, this.options.records, [last]);
      else await group.killStarting(this.options.records, [last]);
      killToolsOfGroup(this.deps.killer, group, [last]);
    })();
    await group.stopping;
  }

  dropGroup(group: Group): void {
    if (this.groups.get(group.key) === group) this.groups.delete(group.key);
  }
}
