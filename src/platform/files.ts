// Files and directories that only the owner may read.
import { chmodSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";

/** Creates the directory (and parents) if needed and makes sure it is mode 0700. */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if ((statSync(path).mode & 0o777) !== 0o700) chmodSync(path, 0o700);
}

/** Writes a 0600 file atomically: readers see the old content or the new, never half of it. */
export function writePrivateFileAtomic(path: string, content: string | Buffer): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode: 0o600 });
  chmodSync(temp, 0o600); // the umask can't widen it, but an existing temp file could be wider
  renameSync(temp, path);
}
