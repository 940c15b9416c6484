// Refuses a state.db that exists but cannot be ours: an empty file (a truncated copy, a disk that
// filled up) or a file that is not SQLite. SQLite would quietly treat an empty file as a new
// database, and the daemon would then make a new owner: every user, chat and worker gone.
import { existsSync, openSync, readdirSync, readSync, closeSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const SQLITE_HEADER = "SQLite format 3\u0000";

export class UnusableStateError extends Error {}

/** Throws UnusableStateError, with what to do, when the file at `path` must not be opened. */
export function assertUsableStateFile(path: string): void {
  if (!existsSync(path)) return;
  const size = statSync(path).size;
  // In WAL mode a database written by a process killed before its first checkpoint is an empty
  // main file beside a WAL that holds everything: that one is fine.
  const wal = `${path}-wal`;
  if (size === 0 && existsSync(wal) && statSync(wal).size > 0) return;
  let problem: string | null = null;
  if (size === 0) problem = "is empty (0 bytes)";
  else {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const fd = openSync(path, "r");
    try {
      readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
    if (header.toString("latin1") !== SQLITE_HEADER) problem = "is not an SQLite database";
  }
  if (problem === null) return;
  const backups = readdirSync(dirname(path))
    .filter((name) => name.startsWith(`${basename(path)}.v`) && name.endsWith(".bak"))
    .sort();
  const restore = backups.length > 0 ? ` To restore the newest backup: cp ${join(dirname(path), backups.at(-1)!)} ${path}.` : "";
  throw new UnusableStateError(
    `the state file ${path} ${problem}; ocfleet will not replace it, so no user, chat or worker is lost by accident.${restore} ` +
      `To start afresh on purpose, move it away first: mv ${path} ${path}.broken`,
  );
}
