// The daemon log: one line per event, appended to daemon.log, echoed to stderr when in the foreground.
// A hostile client must not be able to fill the disk through it: values are cut short, repeated
// warnings about strangers are counted into one line per interval, and the file rotates by size
// while the daemon runs, not only at start.
import { closeSync, openSync, renameSync, statSync, writeSync } from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /**
   * A warning about something a stranger can repeat at will (a refused connection): the first
   * one per `key` and interval is written; the rest are counted and summed up in one line.
   */
  warnThrottled(key: string, message: string, fields?: LogFields): void;
  close(): void;
}

/** Past this size the log is moved to daemon.log.1 (at start and while running). */
export const ROTATE_BYTES = 10 * 1024 * 1024;
/** A value in a log line is cut to this many characters; stack traces get more room. */
const MAX_VALUE_CHARS = 300;
const MAX_STACK_CHARS = 4000;
/** One line per key per interval for throttled warnings. */
const THROTTLE_MS = 10_000;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(clip(value.stack ?? value.message, MAX_STACK_CHARS));
  if (typeof value === "string") {
    const clipped = clip(value, MAX_VALUE_CHARS);
    return /^[\w./:@-]*$/.test(clipped) && clipped !== "" ? clipped : JSON.stringify(clipped);
  }
  return clip(JSON.stringify(value) ?? "undefined", MAX_VALUE_CHARS);
}

export function formatLogLine(level: LogLevel, message: string, fields?: LogFields, at = new Date()): string {
  let line = `${at.toISOString()} ${level.toUpperCase().padEnd(5)} ${clip(message, MAX_VALUE_CHARS)}`;
  if (fields) for (const [key, value] of Object.entries(fields)) line += ` ${key}=${formatValue(value)}`;
  return line + "\n";
}

export interface LoggerOptions {
  file: string;
  echo: boolean;
  debug?: boolean;
  /** For tests: rotate at this size instead of 10 MiB. */
  rotateBytes?: number;
  throttleMs?: number;
}

export function createLogger(options: LoggerOptions): Logger {
  const rotateBytes = options.rotateBytes ?? ROTATE_BYTES;
  const throttleMs = options.throttleMs ?? THROTTLE_MS;
  let size = 0;
  let fd: number | undefined;
  const open = () => {
    try {
      size = statSync(options.file).size;
      if (size > rotateBytes) {
        renameSync(options.file, `${options.file}.1`);
        size = 0;
      }
    } catch {
      size = 0; // no log yet
    }
    fd = openSync(options.file, "a", 0o600);
  };
  open();
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (level === "debug" && !options.debug) return;
    const line = formatLogLine(level, message, fields);
    if (fd !== undefined) {
      writeSync(fd, line);
      size += Buffer.byteLength(line);
      if (size > rotateBytes) {
        closeSync(fd);
        open();
      }
    }
    if (options.echo) process.stderr.write(line);
  };

  const throttled = new Map<string, { suppressed: number; timer: NodeJS.Timeout }>();
  const warnThrottled = (key: string, message: string, fields?: LogFields) => {
    const entry = throttled.get(key);
    if (entry) {
      entry.suppressed++;
      return;
    }
    write("warn", message, fields);
    const timer = setTimeout(() => {
      const ended = throttled.get(key);
      throttled.delete(key);
      if (ended && ended.suppressed > 0) write("warn", `${message} (and ${ended.suppressed} more like it in ${throttleMs / 1000} s)`);
    }, throttleMs);
    timer.unref();
    throttled.set(key, { suppressed: 0, timer });
  };

  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    warnThrottled,
    close: () => {
      for (const entry of throttled.values()) clearTimeout(entry.timer);
      throttled.clear();
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
