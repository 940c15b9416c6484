// Which workers share one `opencode serve` process (the grouping rule, here and nowhere else), and
// the state of one such process: its members, its start, its failures. The supervisor drives it.
import { createHash, randomBytes } from "node:crypto";
import { sep } from "node:path";
import { waitForExit } from "../../platform/processes.js";
import type { WorkerSpec } from "./link.js";
import type { OpencodeBinary } from "./opencode-binary.js";
import type { OpencodeProcess } from "./opencode-process.js";
import type { ProcessRecords } from "./reaper.js";

/**
 * The grouping rule. Workers share a process only when everything that shapes the process is the
 * same: the OpenCode binary and the environment overlay (so a worker with its own keys never shares
 * with another's; the daemon's own environment and umask are the same for all of them). A worker
 * marked isolated, or every worker when the machine says so, gets a key of its own.
 */
export function processKey(spec: WorkerSpec, binary: OpencodeBinary, isolateAll: boolean): string {
  const env = Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const own = spec.isolated === true || isolateAll ? spec.id : null;
  return createHash("sha256")
    .update(JSON.stringify({ binary: binary.path, env, own }))
    .digest("hex")
    .slice(0, 16);
}

/** What a group needs to know of a member. */
export interface GroupMember {
  spec: WorkerSpec;
  log?: { write(line: string): void };
}

/** Lines of the process's output kept in memory to explain a failure. */
const RECENT_LINES = 40;

/** One `opencode serve` process and the workers it serves. */
export class ProcessGroup<M extends GroupMember> {
  /** Unique per group (not per key): the environment marker of its process and the owner of its records. */
  readonly id: string;
  readonly members = new Map<string, M>();
  process: OpencodeProcess | null = null;
  /** The process while it starts, before `process` exists. */
  starting: number | null = null;
  launching = false;
  stopping: Promise<void> | null = null;
  failures = 0;
  healthFailures = 0;
  startedAt = 0;
  /** Settles when the process answers and streams events (its version); a worker is served only then. */
  ready: Promise<{ version: string }> | null = null;
  recent: string[] = [];
  restartTimer: NodeJS.Timeout | undefined;
  healthTimer: NodeJS.Timeout | undefined;
  censusTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    readonly binary: OpencodeBinary,
    readonly env: Record<string, string>,
    /** Where a worker's worktree chats work (the agent's directory for them): those belong to it too. */
    private readonly worktreeRoot: (workerId: string) => string,
  ) {
    this.id = `p${key.slice(0, 12)}${randomBytes(4).toString("hex")}`;
  }

  /** The pid of its process, started or starting. */
  get pid(): number | null {
    return this.process?.pid ?? this.starting;
  }

  /**
   * Stops a process of this group (the running one, or one that started after everyone left):
   * SIGTERM to its process group, SIGKILL after a grace period. `leaving` hear of it too.
   */
  async kill(proc: OpencodeProcess, records: ProcessRecords, leaving: M[]): Promise<void> {
    proc.detach();
    await terminate(proc.pid);
    records.forPid(proc.pid);
    for (const member of [...this.members.values(), ...leaving]) member.log?.write("--- ocfleet: OpenCode stopped");
  }

  /** Stops a process still starting: no API to be polite to yet, but the process exists and must go. */
  async killStarting(records: ProcessRecords, leaving: M[]): Promise<void> {
    const pid = this.starting;
    if (pid === null) return;
    await terminate(pid);
    records.forPid(pid);
    for (const member of leaving) member.log?.write("--- ocfleet: OpenCode stopped while it was starting");
  }

  clearTimers(): void {
    clearInterval(this.healthTimer);
    clearInterval(this.censusTimer);
    this.healthTimer = undefined;
    this.censusTimer = undefined;
  }

  remember(line: string): void {
    this.recent.push(line);
    if (this.recent.length > RECENT_LINES) this.recent.shift();
  }

  /**
   * The member a directory belongs to: its own directory or one inside it, or one of its worktrees;
   * the deepest match wins (a worker may serve a directory inside another's). With one member,
   * everything is its. `also` counts a worker that is leaving as a member still.
   */
  ownerOf(directory: string | null, also?: M): M | null {
    const candidates = also ? [...this.members.values(), also] : [...this.members.values()];
    if (candidates.length === 1) return candidates[0]!;
    if (!directory) return null;
    let best: M | null = null;
    let depth = -1;
    for (const member of candidates) {
      for (const root of [member.spec.directory, this.worktreeRoot(member.spec.id)]) {
        if ((directory === root || directory.startsWith(root + sep)) && root.length > depth) {
          best = member;
          depth = root.length;
        }
      }
    }
    return best;
  }

  /** The member a line of the process's output is about: the one whose directory it names (OpenCode's `directory=…`). */
  ownerOfLine(line: string): M | null {
    let best: M | null = null;
    let depth = -1;
    for (const member of this.members.values()) {
      for (const root of [member.spec.directory, this.worktreeRoot(member.spec.id)]) {
        const at = line.indexOf(root);
        if (at < 0 || root.length <= depth) continue;
        const next = line[at + root.length];
        if (next === undefined || next === " " || next === sep || next === '"') {
          best = member;
          depth = root.length;
        }
      }
    }
    return best;
  }
}

async function terminate(pid: number): Promise<void> {
  signalGroup(pid, "SIGTERM");
  if (!(await waitForExit(pid, 1500))) {
    signalGroup(pid, "SIGKILL");
    await waitForExit(pid, 1000);
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
