// Facts about other processes: is a pid alive, and what command is it running.
import { readFileSync } from "node:fs";
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
