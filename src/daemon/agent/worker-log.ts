// A worker's log file: what its OpenCode printed about it and what the supervisor did, rotated by size,
// with the last lines kept in memory to explain a failure.
import { createWriteStream, renameSync, rmSync, statSync, type WriteStream } from "node:fs";

const LOG_ROTATE_BYTES = 10 * 1024 * 1024;
/** Lines of output kept in memory to explain a failure. */
const RECENT_LINES = 40;

export class WorkerLog {
  readonly recent: string[] = [];
  private stream: WriteStream | null = null;

  constructor(readonly path: string) {}

  open(): void {
    if (this.stream) return;
    try {
      if (statSync(this.path).size > LOG_ROTATE_BYTES) renameSync(this.path, `${this.path}.1`);
    } catch {
      // no log yet
    }
    this.stream = createWriteStream(this.path, { flags: "a", mode: 0o600 });
  }

  write(line: string): void {
    this.recent.push(line);
    if (this.recent.length > RECENT_LINES) this.recent.shift();
    this.stream?.write(`${line}\n`);
  }

  end(): void {
    this.stream?.end();
    this.stream = null;
  }

  remove(): void {
    rmSync(this.path, { force: true });
    rmSync(`${this.path}.1`, { force: true });
  }
}
