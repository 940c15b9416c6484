// The fan-out of one OpenCode process to its workers: each event goes to the worker whose directory
// it came from, each output line to the log of the worker it names (process-wide lines to all,
// marked), and the workers' busy sessions decide their run state and when the tool census looks.
import type { WorkerRuntime } from "./link.js";
import type { Group, ManagedWorker } from "./managed-worker.js";
import type { OpencodeEvent } from "./opencode.js";
import type { ProcessRecords } from "./reaper.js";
import { recordTools } from "./tools.js";

/** While a worker is busy, look for new tool processes this often. */
const CENSUS_INTERVAL_MS = 2000;

export interface FanoutDeps {
  records: ProcessRecords;
  onEvent(workerId: string, event: OpencodeEvent): void;
  setRuntime(worker: ManagedWorker, change: Partial<WorkerRuntime>): void;
}

export class Fanout {
  constructor(private readonly deps: FanoutDeps) {}

  /** An event of the process goes to the worker whose directory it came from; a resumed stream concerns them all. */
  routeEvent(group: Group, event: OpencodeEvent, directory: string | null): void {
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
  routeLine(group: Group, line: string): void {
    group.remember(line);
    const members = [...group.members.values()];
    if (members.length === 1) return members[0]!.log.write(line);
    const owner = group.ownerOfLine(line);
    if (owner) owner.log.write(line);
    else for (const member of members) member.log.write(`[shared process ${group.pid ?? "-"}] ${line}`);
  }

  groupLog(group: Group, line: string): void {
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
    this.deps.onEvent(worker.spec.id, event);
  }

  /** Active while any of its sessions is busy. */
  private updateActivity(worker: ManagedWorker): void {
    const state = worker.runtime.runState;
    if (state !== "idle" && state !== "active") return;
    const next = worker.busy.size > 0 ? "active" : "idle";
    if (next !== state) this.deps.setRuntime(worker, { runState: next });
    if (worker.group) this.updateCensus(worker.group);
  }

  /** While any member is busy, tool processes are recorded as they appear; once all are idle, one last look. */
  updateCensus(group: Group): void {
    const busy = [...group.members.values()].some((m) => m.busy.size > 0);
    if (busy && !group.censusTimer) {
      group.censusTimer = setInterval(() => recordTools(this.deps.records, group), CENSUS_INTERVAL_MS);
      group.censusTimer.unref();
      setImmediate(() => recordTools(this.deps.records, group));
    }
    if (!busy && group.censusTimer) {
      clearInterval(group.censusTimer);
      group.censusTimer = undefined;
      recordTools(this.deps.records, group);
    }
  }
}
