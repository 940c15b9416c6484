// The tool census: the processes an OpenCode process started (a bash tool's command and its children),
// recorded per worker so that a stop, a crash or the next daemon start can kill what OpenCode leaves
// behind. In a process shared by several workers, a tool belongs to the worker whose directory it
// runs in (OpenCode starts a tool in its session's directory).
import { descendantsOf, listProcesses } from "../../platform/processes.js";
import type { GroupMember, ProcessGroup } from "./process-group.js";
import { killPid, killRecorded, markedProcesses, processCwd, type ProcessRecords } from "./reaper.js";

export interface ToolKiller {
  records: ProcessRecords;
  agentMark: string;
  /** Says in the worker's log what was killed. */
  report(member: GroupMember | null, line: string): void;
}

/** Records every descendant of the group's process under the worker it belongs to (the group itself when none). */
export function recordTools<M extends GroupMember>(records: ProcessRecords, group: ProcessGroup<M>): void {
  const root = group.process?.pid;
  if (root === undefined) return;
  // A tool's children may work elsewhere: the whole tree under one direct child belongs where that child runs.
  const topOf = new Map<number, number>();
  const cwdOf = new Map<number, string | null>();
  for (const child of descendantsOf(root, listProcesses())) {
    const top = child.ppid === root ? child.pid : (topOf.get(child.ppid) ?? child.pid);
    topOf.set(child.pid, top);
    if (!cwdOf.has(top)) cwdOf.set(top, processCwd(top));
    const owner = group.ownerOf(cwdOf.get(top) ?? null);
    records.record(owner?.spec.id ?? group.id, "tool", child.pid, child.startTime);
  }
}

/**
 * Kills one worker's tools while its process goes on serving the others: those recorded under it,
 * and those carrying the process's marker that run in its directories (started between two looks
 * of the census, or re-parented away from the process).
 */
export function killToolsOf<M extends GroupMember>(killer: ToolKiller, group: ProcessGroup<M>, member: M): void {
  killRecordedOf(killer, member.spec.id, member);
  const serving = group.pid;
  for (const pid of markedProcesses(killer.agentMark, group.id)) {
    if (pid === serving) continue;
    if (group.ownerOf(processCwd(pid), member) !== member) continue;
    killPid(pid);
    killer.report(member, `--- ocfleet: killed process ${pid} that OpenCode left behind (found by its environment marker)`);
  }
}

/** Kills every tool of a group whose process is gone: its members', its own, and everything carrying its marker. */
export function killToolsOfGroup<M extends GroupMember>(killer: ToolKiller, group: ProcessGroup<M>, members: M[]): void {
  for (const member of members) killRecordedOf(killer, member.spec.id, member);
  killRecordedOf(killer, group.id, null);
  for (const pid of markedProcesses(killer.agentMark, group.id)) {
    killPid(pid);
    const owner = group.ownerOf(processCwd(pid)) ?? (members.length === 1 ? members[0]! : null);
    killer.report(owner, `--- ocfleet: killed process ${pid} that OpenCode left behind (found by its environment marker)`);
  }
}

function killRecordedOf(killer: ToolKiller, owner: string, member: GroupMember | null): void {
  for (const row of killer.records.list(owner)) {
    if (row.kind !== "tool") continue;
    if (killRecorded(row)) killer.report(member, `--- ocfleet: killed tool process ${row.pid} that OpenCode left behind`);
    killer.records.forPid(row.pid);
  }
}
