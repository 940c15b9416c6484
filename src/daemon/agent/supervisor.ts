// The supervisor: this machine's workers. It puts each worker in the group of workers that share an
// `opencode serve` (process-group.ts; process-runner.ts runs the process), maps the worker's own
// start, stop, restart and removal onto that process, retries a worker that cannot be served, and
// stops a worker cleanly with its tools while its neighbours go on. fanout.ts routes the events.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { FleetError } from "../../protocol/errors.js";
import type { Logger } from "../log.js";
import type { WorkerRuntime, WorkerSpec } from "./link.js";
import { resolveOpencodeBinary, type OpencodeBinary, type OpencodeEvent, type OpencodeModel, type OpencodeServer } from "./opencode.js";
import type { OpencodeProcess } from "./opencode-process.js";
import { ProcessGroup, processKey } from "./process-group.js";
import type { ProcessRecords } from "./reaper.js";
import { killToolsOf, recordTools, type ToolKiller } from "./tools.js";
import { WorkerLog } from "./worker-log.js";
import { Fanout } from "./fanout.js";
import { type Group, ManagedWorker } from "./managed-worker.js";
import { MAX_BACKOFF_MS, MAX_CONSECUTIVE_FAILURES, ProcessRunner } from "./process-runner.js";

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

export class Supervisor {
  private readonly workers = new Map<string, ManagedWorker>();
  private readonly runner: ProcessRunner;
  private readonly backoffMs: number;
  private readonly killer: ToolKiller;
  private readonly fanout: Fanout;

  constructor(private readonly options: SupervisorOptions) {
    this.backoffMs = options.backoffMs ?? 1000;
    mkdirSync(options.logDir, { recursive: true, mode: 0o700 });
    this.fanout = new Fanout({ records: options.records, onEvent: options.onEvent, setRuntime: (worker, change) => this.setRuntime(worker, change) });
    this.killer = { records: options.records, agentMark: options.agentMark, report: (member, line) => member && (member as ManagedWorker).log.write(line) };
    this.runner = new ProcessRunner(
      { ...options, backoffMs: this.backoffMs, readyTimeoutMs: options.readyTimeoutMs ?? 30_000 },
      {
        fanout: this.fanout,
        killer: this.killer,
        attach: (worker, group, proc) => this.attach(worker, group, proc),
        setRuntime: (worker, change) => this.setRuntime(worker, change),
      },
    );
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
    let group = this.runner.groups.get(key);
    if (!group) {
      group = new ProcessGroup<ManagedWorker>(key, binary, worker.spec.env, this.options.worktreeRoot);
      this.runner.groups.set(key, group);
    }
    group.members.set(worker.spec.id, worker);
    worker.group = group;
    if (group.process) void this.attach(worker, group, group.process);
    else if (!group.launching && !group.restartTimer) void this.runner.launch(group, reason);
    // else: the process is starting (or waiting to restart), and serves every member once it is up.
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
      this.fanout.updateCensus(group);
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
      if (group.members.size === 0) await this.runner.stopGroup(group, worker);
      else {
        killToolsOf(this.killer, group, worker);
        worker.log.write(`--- ocfleet: left OpenCode process ${group.pid ?? "-"}, which goes on for ${group.members.size} other worker(s)`);
        this.fanout.updateCensus(group);
      }
    })();
    try {
      await worker.leaving;
    } finally {
      worker.leaving = null;
    }
  }

  private setRuntime(worker: ManagedWorker, change: Partial<WorkerRuntime>): void {
    worker.runtime = { ...worker.runtime, ...change };
    this.options.onRuntime(worker.spec.id, worker.runtime);
  }
}
