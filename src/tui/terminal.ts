// The terminal modes the TUI sets, and putting them back on every way out (quit, Ctrl+C, SIGTERM,
// a crash). The TUI owns the alternate screen, like OpenCode's own TUI, lazygit and k9s: the
// shell's screen and scrollback are never written to, and come back as they were on exit.
import { writeSync } from "node:fs";

const ENTER = [
  "\x1b[?1049h", // the alternate screen (saves the cursor; the shell's screen stays untouched)
  "\x1b[?2004h", // bracketed paste: a pasted newline is text, not Enter
  "\x1b[22;0t", // save the window title (xterm's title stack) before the app sets its own
].join("");

/**
 * Mouse reports, for the wheel: button events (1000) in SGR form (1006). No motion tracking. The
 * trade-off: while the app runs, a plain drag no longer selects text (most terminals select with
 * Shift+drag then, Option+drag in iTerm2); OCFLEET_TUI_MOUSE=off leaves the mouse to the terminal.
 */
const MOUSE_ON = "\x1b[?1000h\x1b[?1006h";
const MOUSE_OFF = "\x1b[?1006l\x1b[?1000l";

/** Whether to ask for mouse reports (OCFLEET_TUI_MOUSE=off: no). */
export function wantsMouse(env: NodeJS.ProcessEnv): boolean {
  return !/^(off|0|no|false)$/i.test(env.OCFLEET_TUI_MOUSE ?? "");
}

const LEAVE = [
  MOUSE_OFF, // always: harmless when it was never on, and a crash must not leave the terminal reporting clicks
  "\x1b[?2004l",
  "\x1b[0m",
  "\x1b[?1049l", // back to the shell's screen, cursor where it was
  "\x1b[?25h", // cursor shown
  "\x1b[23;0t", // the window title as it was
].join("");

/** Terminals known to speak the kitty keyboard protocol (Shift+Enter told apart from Enter). */
function speaksKitty(env: NodeJS.ProcessEnv): boolean {
  return "KITTY_WINDOW_ID" in env || env.TERM === "xterm-kitty" || env.TERM_PROGRAM === "WezTerm" || env.TERM_PROGRAM === "ghostty";
}

/**
 * Switches the terminal into the TUI's modes and returns the function that restores it. The
 * restore runs once, whichever exit path gets there first; it writes synchronously so it also
 * works from an 'exit' handler.
 */
export function takeTerminal(stdout: NodeJS.WriteStream, stdin: NodeJS.ReadStream): () => void {
  const kitty = speaksKitty(process.env);
  // Raw mode at once: keys typed while the first frame draws wait for us instead of echoing.
  if (stdin.isTTY) stdin.setRawMode(true);
  stdout.write(ENTER + (kitty ? "\x1b[>1u" : "") + (wantsMouse(process.env) ? MOUSE_ON : ""));
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      writeSync((stdout as { fd?: number }).fd ?? 1, (kitty ? "\x1b[<u" : "") + LEAVE);
    } catch {
      // the terminal is gone
    }
    if (stdin.isTTY) stdin.setRawMode(false);
  };
  process.on("exit", restore);
  return restore;
}

/** Clears the visible rows one by one, which no terminal turns into scrollback or a history wipe. */
function clearRows(rows: number): string {
  return `\x1b[H${"\x1b[2K\x1b[1B".repeat(Math.max(1, rows))}\x1b[H`;
}

/**
 * The stdout the app writes to: the terminal's, except that whole-screen erases become a
 * row-by-row clear. Ink clears the terminal with ED 2 + ED 3 when a frame reaches its height (a
 * shrinking window does that), and tmux applies ED 3 to the shell's history even on the
 * alternate screen; ED 2 after a resize can also push the screen into tmux's history. So neither
 * ever reaches the terminal.
 */
export function guardedStdout(stdout: NodeJS.WriteStream): NodeJS.WriteStream {
  const write = (chunk: unknown, ...rest: unknown[]) => {
    const erase = /\x1b\[[23]J/g;
    const safe = typeof chunk === "string" && erase.test(chunk) ? clearRows(stdout.rows || 24) + chunk.replace(erase, "") : chunk;
    return (stdout.write as (...args: unknown[]) => boolean)(safe, ...rest);
  };
  return new Proxy(stdout, {
    get(target, property) {
      if (property === "write") return write;
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
