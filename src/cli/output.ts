// Printing for people and for scripts: colors when they help, JSON when asked, one-line errors.
import { FleetError } from "../protocol/errors.js";
import { sanitize } from "../terminal/sanitize.js";

export const colorEnabled = (() => {
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

/** A hint for people (what to run next): stderr, so stdout carries only the result a script captures. */
export function hint(text: string): void {
  process.stderr.write(`${style.dim(text)}\n`);
}

export function print(text = ""): void {
  process.stdout.write(text + "\n");
}

/** An error the user caused or can fix, with the exit code to use; `data` goes into --json output. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * A value whose strings are safe to print: every string in it, however deep, through `sanitize`.
 * Human views are drawn from this, so no renderer has to remember; --json prints the original.
 */
export function sanitizeValue<T>(value: T): T {
  if (typeof value === "string") return sanitize(value) as T;
  if (Array.isArray(value)) return value.map(sanitizeValue) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = sanitizeValue(inner);
    return out as T;
  }
  return value;
}

/** Prints an error as one clear line (or a JSON object) and returns the exit code. */
export function reportError(err: unknown, json: boolean): number {
  const code = err instanceof FleetError ? err.code : err instanceof CliError ? "cli_error" : "internal";
  const message = err instanceof Error ? err.message : String(err);
  const data = err instanceof CliError ? err.data : err instanceof FleetError ? err.data : undefined;
  if (json) printJsonLine({ error: { code, message, ...data } });
  // Messages quote what users and models wrote (names, titles): never raw to a terminal.
  process.stderr.write(`ocfleet: ${sanitize(message)}\n`);
  if (!(err instanceof FleetError) && !(err instanceof CliError) && process.env.OCFLEET_DEBUG === "1" && err instanceof Error) {
    process.stderr.write(`${err.stack}\n`);
  }
  if (err instanceof CliError) return err.exitCode;
  // An argument the daemon refused is a usage error, wherever it was not put in the user's words.
  return err instanceof FleetError && err.code === "invalid_argument" ? 2 : 1;
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

/** Pads columns to a table; the last column is not padded. A cell stays on its row (⏎ for a newline). */
export function formatTable(input: string[][]): string {
  const rows = input.map((row) => row.map((cell) => cell.replace(/\r?\n/g, "⏎").replace(/\t/g, " ")));
  // eslint-disable-next-line no-control-regex
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "").length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - visible(cell)))).join("  ")).join("\n");
}

/** Dollars as people read them: $0 when nothing was spent, four decimals under a dollar, two above. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0";
  return `$${usd.toFixed(usd < 1 ? 4 : 2)}`;
}
