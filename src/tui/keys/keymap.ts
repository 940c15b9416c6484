// Every key the TUI reacts to, in one table: code asks "is this the quit key?", never compares
// characters, and the help screen is generated from here.
import type { KeyEvent } from "./parse.js";

export interface Binding {
  /** A named key ("return", "up", "escape"…) or a printable character. */
  key: string;
  ctrl?: boolean;
  alt?: boolean;
  shift?: boolean;
}

export interface Command {
  bindings: Binding[];
  /** How the help screen names the keys. */
  label: string;
  help: string;
  /** Where it applies, for the help screen. */
  scope: "everywhere" | "fleet" | "chat" | "prompt" | "lists";
}

const char = (c: string): Binding => ({ key: c });

export const KEYMAP = {
  quit: { bindings: [char("q")], label: "q", help: "quit", scope: "fleet" },
  forceQuit: { bindings: [{ key: "c", ctrl: true }], label: "Ctrl+C", help: "quit from anywhere", scope: "everywhere" },
  help: { bindings: [char("?")], label: "?", help: "this help", scope: "everywhere" },
  up: { bindings: [{ key: "up" }, char("k")], label: "↑ / k", help: "move up", scope: "lists" },
  down: { bindings: [{ key: "down" }, char("j")], label: "↓ / j", help: "move down", scope: "lists" },
  open: { bindings: [{ key: "return" }], label: "Enter", help: "open the chat, or expand a machine or worker", scope: "lists" },
  newChat: { bindings: [char("n")], label: "n", help: "new chat on the selected worker", scope: "fleet" },
  addWorker: { bindings: [char("a")], label: "a", help: "add a worker (asks for a directory)", scope: "fleet" },
  search: { bindings: [char("/")], label: "/", help: "search chats by title", scope: "fleet" },
  startWorker: { bindings: [char("s")], label: "s", help: "start the selected worker", scope: "fleet" },
  stopWorker: { bindings: [char("x")], label: "x", help: "stop the selected worker", scope: "fleet" },
  restartWorker: { bindings: [char("r")], label: "r", help: "restart the selected worker", scope: "fleet" },
  workerLogs: { bindings: [char("l")], label: "l", help: "the selected worker's OpenCode output", scope: "fleet" },
  goTo: { bindings: [char("g")], label: "g", help: "go to a screen: fleet, workers, machines, checklists…", scope: "fleet" },
  signIn: { bindings: [char("i")], label: "i", help: "sign in: anonymous, Google, or a login code", scope: "fleet" },
  back: { bindings: [{ key: "tab" }, { key: "b", ctrl: true }], label: "Tab / Ctrl+B", help: "back to the fleet (the chat keeps streaming)", scope: "chat" },
  send: { bindings: [{ key: "return" }], label: "Enter", help: "send the message", scope: "chat" },
  newline: {
    bindings: [
      { key: "return", shift: true },
      { key: "return", alt: true },
      { key: "return", ctrl: true },
    ],
    label: "Ctrl+J / Alt+Enter / Shift+Enter",
    help: "new line in the message",
    scope: "chat",
  },
  pageUp: { bindings: [{ key: "pageup" }], label: "PgUp", help: "scroll up a page (transcript, help, logs, details)", scope: "everywhere" },
  pageDown: { bindings: [{ key: "pagedown" }], label: "PgDn", help: "scroll down a page", scope: "everywhere" },
  abort: { bindings: [{ key: "escape" }], label: "Esc", help: "stop the reply in progress", scope: "chat" },
  pickModel: { bindings: [{ key: "p", ctrl: true }], label: "Ctrl+P", help: "pick the model for this chat", scope: "chat" },
  toggleReasoning: { bindings: [{ key: "r", ctrl: true }], label: "Ctrl+R", help: "show or hide the model's reasoning", scope: "chat" },
  toggleToolOutput: { bindings: [{ key: "t", ctrl: true }], label: "Ctrl+T", help: "show or hide tool output", scope: "chat" },
  permitOnce: { bindings: [char("y")], label: "y", help: "allow this once", scope: "prompt" },
  permitAlways: { bindings: [char("a")], label: "a", help: "allow always", scope: "prompt" },
  reject: { bindings: [char("n")], label: "n", help: "reject", scope: "prompt" },
  cancel: { bindings: [{ key: "escape" }], label: "Esc", help: "close a dialog", scope: "everywhere" },
} satisfies Record<string, Command>;

export type CommandName = keyof typeof KEYMAP;

function matchesBinding(binding: Binding, event: KeyEvent): boolean {
  const name = event.name === "text" ? event.text : event.name;
  if (name !== binding.key) return false;
  if (Boolean(binding.ctrl) !== event.ctrl || Boolean(binding.alt) !== event.alt) return false;
  // Shift only matters where a binding asks for it (a capital letter already says so itself).
  return binding.shift === undefined || binding.shift === event.shift;
}

/** Whether the key event is one of the command's keys. Check specific commands (newline) before general ones (send). */
export function isCommand(command: CommandName, event: KeyEvent): boolean {
  const bindings: Binding[] = KEYMAP[command].bindings;
  return bindings.some((b) => matchesBinding(b, event));
}
