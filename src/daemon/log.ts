// The daemon log: one line per event, appended to daemon.log, echoed to stderr when in the foreground.
import { closeSync, openSync, renameSync, statSync, writeSync } from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  close(): void;
}

/** Past this size the log is moved to daemon.log.1 at start, so it never grows without bound. */
const ROTATE_BYTES = 10 * 1024 * 1024;

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.stack ?? value.message);
  if (typeof value === "string") return /^[\w./:@-]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? "undefined";
}

export function formatLogLine(level: LogLevel, message: string, fields?: LogFields, at = new Date()): string {
  let line = `${at.toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`;
  if (fields) for (const [key, value] of Object.entries(fields)) line += ` ${key}=${formatValue(value)}`;
  return line + "\n";
}

export function createLogger(options: { file: string; echo: boolean; debug?: boolean }): Logger {
  try {
    if (statSync(options.file).size > ROTATE_BYTES) renameSync(options.file, `${options.file}.1`);
  } catch {
    // no log yet
  }
  let fd: number | undefined = openSync(options.file, "a", 0o600);
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (level === "debug" && !options.debug) return;
    const line = formatLogLine(level, message, fields);
    if (fd !== undefined) writeSync(fd, line);
    if (options.echo) process.stderr.write(line);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
