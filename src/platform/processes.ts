// Facts about other processes: is a pid alive, and what command is it running.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The argv of a live process, or null if it is gone or unreadable. */
export function readCommandLine(pid: number): string[] | null {
  if (!isPidAlive(pid)) return null;
  if (process.platform === "linux") {
    try {
      const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const parts = raw.split("\0");
      if (parts.at(-1) === "") parts.pop();
      return parts.length > 0 ? parts : null;
    } catch {
      return null;
    }
  }
  try {
    // Loaded only here: child_process is not needed on the CLI's fast path on Linux.
    const { execFileSync } = createRequire(import.meta.url)("node:child_process") as typeof import("node:child_process");
    const out = execFileSync("ps", ["-p", String(pid), "-o", "command="], { encoding: "utf8", timeout: 2000 });
    const line = out.trim();
    return line ? line.split(/\s+/) : null;
  } catch {
    return null;
  }
}

/** Waits until the pid is gone, polling; true if it went away within the time. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isPidAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** An opaque start time: equal values mean the same process, so a reused pid is told apart. */
  startTime: string;
}

/** Every process visible to us, with its parent and start time. */
export function listProcesses(): ProcessInfo[] {
  if (process.platform === "linux") {
    const out: ProcessInfo[] = [];
    let entries: string[];
    try {
      entries = readdirSync("/proc");
    } catch {
      return out;
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readLinuxStat(Number(entry));
      if (stat) out.push(stat);
    }
    return out;
  }
  try {
    const { execFileSync } = createRequire(import.meta.url)("node:child_process") as typeof import("node:child_process");
    const text = execFileSync("ps", ["-axo", "pid=,ppid=,lstart="], { encoding: "utf8", timeout: 5000 });
    return text
      .split("\n")
      .map((line) => /^\s*(\d+)\s+(\d+)\s+(.+)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), startTime: m[3]!.trim() }));
  } catch {
    return [];
  }
}

/** The start time of one process (see ProcessInfo.startTime), or null if it is gone. */
export function processStartTime(pid: number): string | null {
  if (process.platform === "linux") return readLinuxStat(pid)?.startTime ?? null;
  return listProcesses().find((p) => p.pid === pid)?.startTime ?? null;
}

/** All descendants of a process (children, their children, …), found through parent pids. */
export function descendantsOf(rootPid: number, processes: ProcessInfo[] = listProcesses()): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const p of processes) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const out: ProcessInfo[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

function readLinuxStat(pid: number): ProcessInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { pid, ppid: Number(fields[1]), startTime: fields[19]! };
  } catch {
    return null;
  }
}

/**
 * Pids of our own user's processes whose environment holds every one of `marks` (NAME=value).
 * A marker set in a process's environment is inherited by everything it starts, however
 * detached, so this finds descendants that re-parented to init, which a census by parent pid
 * misses. Linux reads /proc/<pid>/environ; elsewhere `ps` prints the environment after the command.
 */
export function processesMarkedWith(marks: Record<string, string>): number[] {
  const wanted = Object.entries(marks).map(([name, value]) => `${name}=${value}`);
  const found: number[] = [];
  if (process.platform === "linux") {
    let entries: string[];
    try {
      entries = readdirSync("/proc");
    } catch {
      return found;
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      let environ: string[];
      try {
        environ = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      } catch {
        continue; // gone, or another user's
      }
      if (wanted.every((mark) => environ.includes(mark))) found.push(Number(entry));
    }
    return found;
  }
  try {
    const { execFileSync } = createRequire(import.meta.url)("node:child_process") as typeof import("node:child_process");
    const text = execFileSync("ps", ["-axeww", "-o", "pid=,command="], { encoding: "utf8", timeout: 5000, maxBuffer: 64 * 1024 * 1024 });
    for (const line of text.split("\n")) {
      const match = /^\s*(\d+)\s(.*)$/.exec(line);
      if (!match || Number(match[1]) === process.pid) continue;
      if (wanted.every((mark) => ` ${match[2]} `.includes(` ${mark} `))) found.push(Number(match[1]));
    }
  } catch {
    // no ps: the census by parent pid is all there is
  }
  return found;
}
