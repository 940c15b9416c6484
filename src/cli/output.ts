// Printing for people and for scripts: colors when they help, JSON when asked, one-line errors.
import { FleetError } from "../protocol/errors.js";

const colorEnabled = (() => {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== "0") return true;
  return process.stdout.isTTY === true && process.env.TERM !== "dumb";
})();

const paint = (open: number, close: number) => (text: string) => (colorEnabled ? `\x1b[${open}m${text}\x1b[${close}m` : text);

export const style = {
  bold: paint(1, 22),
  dim: paint(2, 22),
  red: paint(31, 39),
  green: paint(32, 39),
  yellow: paint(33, 39),
  cyan: paint(36, 39),
};

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** One line of NDJSON, for streams of values (watch --json). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + "\n");
}

export function print(text = ""): void {
  process.stdout.write(text + "\n");
}

/** An error the user caused or can fix, with the exit code to use. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Prints an error as one clear line (or a JSON object) and returns the exit code. */
export function reportError(err: unknown, json: boolean): number {
  const code = err instanceof FleetError ? err.code : err instanceof CliError ? "cli_error" : "internal";
  const message = err instanceof Error ? err.message : String(err);
  if (json) printJsonLine({ error: { code, message } });
  process.stderr.write(`ocfleet: ${message}\n`);
  if (!(err instanceof FleetError) && !(err instanceof CliError) && process.env.OCFLEET_DEBUG === "1" && err instanceof Error) {
    process.stderr.write(`${err.stack}\n`);
  }
  return err instanceof CliError ? err.exitCode : 1;
}

export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

export function formatAge(at: number, now = Date.now()): string {
  const ms = Math.max(0, now - at);
  return ms < 1000 ? "just now" : `${formatDuration(ms)} ago`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Pads columns to a table; the last column is not padded. */
export function formatTable(rows: string[][]): string {
  // eslint-disable-next-line no-control-regex
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "").length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - visible(cell)))).join("  ")).join("\n");
}
