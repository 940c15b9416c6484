// Process records: every OpenCode process and every tool process it started, kept in the local
// database, so that a daemon that died without cleaning up can finish the job at its next start.
import { createHash } from "node:crypto";
import { readlinkSync } from "node:fs";
import { processesMarkedWith, processStartTime, readCommandLine } from "../../platform/processes.js";
import type { Db } from "../db/open.js";
import { storeFault } from "../db/store-fault.js";
import type { Logger } from "../log.js";

export type ProcessKind = "opencode" | "tool";

interface ProcessRow {
  pid: number;
  worker_id: string;
  kind: ProcessKind;
  start_time: string;
}

export class ProcessRecords {
  /** Whether the last record failed, so a full disk is said once rather than at every census. */
  private failing = false;

  constructor(
    private readonly db: Db,
    private readonly log?: Logger,
  ) {}

  /**
   * Records a process. A store that refuses the write (a full disk) must not stop the worker or the
   * daemon (the census runs on a timer): the environment markers still find the process at the next start.
   */
  record(workerId: string, kind: ProcessKind, pid: number, startTime: string): void {
    try {
      this.db
        .prepare("INSERT OR REPLACE INTO worker_processes (pid, worker_id, kind, start_time, recorded_at) VALUES (?, ?, ?, ?, ?)")
        .run(pid, workerId, kind, startTime, Date.now());
      this.failing = false;
    } catch (err) {
      if (!this.failing)
        this.log?.warn("could not record a worker's process; its environment marker still finds it", { pid, kind, error: storeFault(err) ?? String(err) });
      this.failing = true;
    }
  }

  forPid(pid: number): void {
    this.db.prepare("DELETE FROM worker_processes WHERE pid = ?").run(pid);
  }

  forget(workerId: string): void {
    this.db.prepare("DELETE FROM worker_processes WHERE worker_id = ?").run(workerId);
  }

  list(workerId?: string): ProcessRow[] {
    return workerId === undefined
      ? (this.db.prepare("SELECT pid, worker_id, kind, start_time FROM worker_processes").all() as ProcessRow[])
      : (this.db.prepare("SELECT pid, worker_id, kind, start_time FROM worker_processes WHERE worker_id = ?").all(workerId) as ProcessRow[]);
  }
}

/** Whether the pid is still the very process we recorded (same start time, and for OpenCode, its command). */
function isRecordedProcess(row: ProcessRow): boolean {
  if (processStartTime(row.pid) !== row.start_time) return false;
  if (row.kind !== "opencode") return true;
  const argv = readCommandLine(row.pid);
  return argv?.some((arg) => /opencode/.test(arg)) === true && argv.includes("serve");
}

/** Kills a recorded process and its process group. Returns whether it was still there. */
export function killRecorded(row: ProcessRow): boolean {
  if (!isRecordedProcess(row)) return false;
  for (const target of [-row.pid, row.pid]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // the group may not exist (the process is not a group leader), or it is already gone
    }
  }
  return true;
}

/**
 * Environment markers every OpenCode process of this agent, and everything it starts, inherits:
 * which daemon (a digest of its state directory, so daemons of other directories are never
 * touched) and which OpenCode process (a process group's id: one process may serve several
 * workers, whose tools are then told apart by their working directory). Finding them needs no
 * timing: a tool started a moment before the daemon was killed carries them as surely as one that
 * ran for an hour.
 */
export const AGENT_MARK = "OCFLEET_AGENT";
export const PROCESS_MARK = "OCFLEET_PROCESS";

export function agentMarkOf(stateHome: string): string {
  return createHash("sha256").update(stateHome).digest("hex").slice(0, 20);
}

/** Pids of the processes that carry the markers: all of this agent's, or those of one OpenCode process (itself included). */
export function markedProcesses(agentMark: string, processMark?: string): number[] {
  const marks: Record<string, string> = { [AGENT_MARK]: agentMark };
  if (processMark !== undefined) marks[PROCESS_MARK] = processMark;
  return processesMarkedWith(marks);
}

/** At most this many sweeps; a SIGKILLed process is gone within one or two. */
const MAX_SWEEPS = 10;

/**
 * Kills every process that carries the markers (see markedProcesses). Returns their pids. One
 * sweep is not enough: a process may fork between the scan that finds it and the moment the kill
 * takes it (OpenCode starting git or a tool, a shell in a loop), and the child carries the markers
 * but was not in the scan. So it sweeps again until a scan finds no marked process at all.
 */
export function killMarked(agentMark: string, processMark?: string): number[] {
  const killed = new Set<number>();
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    const found = markedProcesses(agentMark, processMark);
    if (found.length === 0) break;
    for (const pid of found) {
      killPid(pid);
      killed.add(pid);
    }
  }
  return [...killed];
}

export function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** A process's working directory (where a tool runs: its session's directory), or null where it cannot be read. */
export function processCwd(pid: number): string | null {
  if (process.platform !== "linux") return null;
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

/** At start: kills whatever a previous daemon left running, then forgets all records. */
export function reapLeftovers(records: ProcessRecords, log: Logger, agentMark: string): number {
  let killed = 0;
  for (const row of records.list()) {
    if (killRecorded(row)) {
      killed++;
      log.warn("killed a process left over from an unclean stop", { pid: row.pid, kind: row.kind, worker: row.worker_id });
    }
    records.forPid(row.pid);
  }
  // No worker of this agent runs yet: anything carrying its marker was left by an earlier run.
  for (const pid of killMarked(agentMark)) {
    killed++;
    log.warn("killed a process left over from an unclean stop (found by its environment marker)", { pid });
  }
  return killed;
}
