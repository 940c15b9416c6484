// A real terminal for tests and benchmarks: the real `ocfleet` binary in a pseudo-terminal
// (@lydell/node-pty), its output fed to a headless xterm so tests read the screen as a person sees it.
import { createRequire } from "node:module";
import type { IPty } from "@lydell/node-pty";
import { BIN } from "./daemon.js";

const require = createRequire(import.meta.url);
const { spawn } = require("@lydell/node-pty") as typeof import("@lydell/node-pty");
const { Terminal } = require("@xterm/headless") as typeof import("@xterm/headless");

export interface PtySession {
  pty: IPty;
  /** The visible screen, one string per row, trailing spaces trimmed. */
  screen(): string[];
  /** The whole buffer (scrollback included). */
  buffer(): string[];
  write(data: string): void;
  /** Resizes the terminal (the PTY and the screen model), as a person dragging the window does. */
  resize(cols: number, rows: number): void;
  /** Waits until the screen shows the pattern; fails with the screen's content. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  exited: Promise<{ exitCode: number; signal?: number }>;
  /** Everything the program wrote, raw, for checks on escape sequences. */
  raw(): string;
  /** The time (performance.now) at which the pattern first appeared, checked on each write. */
  firstSeen(pattern: RegExp): Promise<number>;
  kill(): void;
}

export function startPty(args: string[], options: { env: NodeJS.ProcessEnv; cols?: number; rows?: number; cwd?: string; command?: string }): PtySession {
  const cols = options.cols ?? 120;
  const rows = options.rows ?? 32;
  const term = new Terminal({ cols, rows, allowProposedApi: true, scrollback: 5000 });
  const command = options.command ?? process.execPath;
  const pty = spawn(command, options.command ? args : [BIN, ...args], {
    name: "xterm-256color",
    cols,
    rows,
    cwd: options.cwd ?? process.cwd(),
    env: { ...options.env, TERM: "xterm-256color", COLORTERM: "truecolor" } as Record<string, string>,
  });
  let raw = "";
  const watchers: Array<() => void> = [];
  pty.onData((data) => {
    raw += data;
    term.write(data, () => watchers.slice().forEach((w) => w()));
  });
  const exited = new Promise<{ exitCode: number; signal?: number }>((resolve) => pty.onExit((e) => resolve(e)));
  const lineAt = (y: number) => term.buffer.active.getLine(y)?.translateToString(true) ?? "";
  const screen = () => {
    const buf = term.buffer.active;
    return Array.from({ length: term.rows }, (_, i) => lineAt(buf.viewportY + i));
  };
  const buffer = () => Array.from({ length: term.buffer.active.length }, (_, i) => lineAt(i));
  const matches = (pattern: RegExp | string) => {
    const text = screen().join("\n");
    return typeof pattern === "string" ? text.includes(pattern) : pattern.test(text);
  };
  return {
    pty,
    screen,
    buffer,
    raw: () => raw,
    write: (data) => pty.write(data),
    resize(newCols, newRows) {
      term.resize(newCols, newRows);
      pty.resize(newCols, newRows);
    },
    exited,
    kill: () => pty.kill(),
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!matches(pattern)) return false;
          clearTimeout(timer);
          watchers.splice(watchers.indexOf(check), 1);
          resolve();
          return true;
        };
        const timer = setTimeout(() => {
          watchers.splice(watchers.indexOf(check), 1);
          reject(new Error(`the screen never showed ${pattern}; it shows:\n${screen().join("\n")}`));
        }, timeoutMs);
        watchers.push(check);
        check();
      });
    },
    firstSeen(pattern) {
      return new Promise((resolve) => {
        const check = () => {
          if (!pattern.test(screen().join("\n"))) return;
          watchers.splice(watchers.indexOf(check), 1);
          resolve(performance.now());
        };
        watchers.push(check);
      });
    },
  };
}
