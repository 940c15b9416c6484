// Every key the TUI reacts to, in one table: code asks "is this the quit key?", never compares
// characters, and both the help screen and each screen's hint line are generated from here.
import type { KeyEvent } from "./parse.js";

export interface Binding {
  /** A named key ("return", "up", "escape"…) or a printable character. */
  key: string;
  ctrl?: boolean;
  alt?: boolean;
  shift?: boolean;
}

export type Scope =
  | "everywhere"
  | "lists"
  | "fleet"
  | "chat"
  | "prompt"
  | "checklists"
  | "attendance"
  | "discussions"
  | "presentations"
  | "schedules"
  | "diff"
  | "pager";

export interface Command {
  bindings: Binding[];
  /** How the help screen names the keys. */
  label: string;
  help: string;
  /** The few words of the status bar's hint, after the first key of the label. */
  hint?: string;
  /** Where it applies, for the help screen. */
  scope: Scope;
}

const char = (c: string): Binding => ({ key: c });

/** What the help and the status bar say of a command, and where it applies. */
type Described = Omit<Command, "bindings" | "label">;

/** A command on one printable key, which is also how the help names it. */
const onChar = (c: string, described: Described): Command => ({ bindings: [char(c)], label: c, ...described });

/** A command on one named key ("escape", "pageup"…), with the name the help gives it. */
const onKey = (key: string, label: string, described: Described): Command => ({ bindings: [{ key }], label, ...described });

/** A command on Ctrl and a letter, named "Ctrl+P" in the help. */
const onCtrl = (letter: string, described: Described): Command => ({
  bindings: [{ key: letter, ctrl: true }],
  label: `Ctrl+${letter.toUpperCase()}`,
  ...described,
});

export const KEYMAP = {
  quit: onChar("q", { help: "quit", hint: "quit", scope: "fleet" }),
  forceQuit: onCtrl("c", { help: "quit from anywhere", scope: "everywhere" }),
  help: onChar("?", { help: "this help (in a chat: when the message is empty)", hint: "help", scope: "everywhere" }),
  cancel: onKey("escape", "Esc", { help: "close a dialog, or go back", hint: "back", scope: "everywhere" }),
  pageUp: onKey("pageup", "PgUp", { help: "scroll up a page (transcript, help, logs, details)", scope: "everywhere" }),
  pageDown: onKey("pagedown", "PgDn", { help: "scroll down a page", hint: "PgUp/PgDn scroll", scope: "everywhere" }),
  wheelUp: onKey("wheelup", "mouse wheel", { help: "scroll up (where the terminal sends the wheel)", scope: "everywhere" }),
  wheelDown: onKey("wheeldown", "mouse wheel", { help: "scroll down (OCFLEET_TUI_MOUSE=off: the terminal's)", scope: "everywhere" }),
  up: { bindings: [{ key: "up" }, char("k")], label: "↑ / k", help: "move up", scope: "lists" },
  down: { bindings: [{ key: "down" }, char("j")], label: "↓ / j", help: "move down", hint: "↑↓ move", scope: "lists" },
  open: onKey("return", "Enter", { help: "open the selected item; on the fleet, fold a machine or worker", hint: "open", scope: "lists" }),
  goTo: onChar("g", { help: "go to a screen: fleet, workers, machines, checklists…", hint: "screens", scope: "lists" }),
  back: {
    bindings: [{ key: "tab" }, { key: "b", ctrl: true }],
    label: "Tab / Ctrl+B",
    help: "back (from a chat: to the fleet; the chat keeps streaming)",
    hint: "back",
    scope: "everywhere",
  },
  newChat: onChar("n", { help: "new chat on the selected worker", hint: "new chat", scope: "fleet" }),
  addWorker: onChar("a", { help: "add a worker (asks for a directory)", hint: "add worker", scope: "fleet" }),
  search: onChar("/", { help: "search chats: titles and messages, as you type", hint: "search", scope: "fleet" }),
  startWorker: onChar("s", { help: "start the selected worker", hint: "start", scope: "fleet" }),
  stopWorker: onChar("x", { help: "stop the selected worker", hint: "stop", scope: "fleet" }),
  restartWorker: onChar("r", { help: "restart the selected worker", hint: "restart", scope: "fleet" }),
  workerLogs: onChar("l", { help: "the selected worker's OpenCode output", hint: "logs", scope: "fleet" }),
  signIn: onChar("i", { help: "sign in: anonymous, Google, or a login code", hint: "sign in", scope: "fleet" }),
  send: onKey("return", "Enter", { help: "send the message", hint: "send", scope: "chat" }),
  newline: {
    bindings: [
      { key: "return", ctrl: true },
      { key: "return", alt: true },
      { key: "return", shift: true },
    ],
    label: "Ctrl+J / Alt+Enter / Shift+Enter",
    help: "new line in the message (Shift+Enter only where the terminal tells it from Enter)",
    hint: "new line",
    scope: "chat",
  },
  abort: onKey("escape", "Esc", { help: "stop the reply in progress", hint: "stop", scope: "chat" }),
  pickModel: onCtrl("p", { help: "pick the model for this chat", hint: "model", scope: "chat" }),
  toggleReasoning: onCtrl("r", { help: "show or hide the model's reasoning", hint: "reasoning", scope: "chat" }),
  toggleToolOutput: onCtrl("t", { help: "show or hide tool output", hint: "tool output", scope: "chat" }),
  toolPager: onCtrl("o", {
    help: "the whole output of the last tool call on screen, in a pager",
    hint: "tool output",
    scope: "chat",
  }),
  chatDiff: onCtrl("d", { help: "what this chat changed (its diff)", hint: "diff", scope: "chat" }),
  nextFile: onChar("]", { help: "jump to the next file", hint: "next file", scope: "diff" }),
  previousFile: onChar("[", { help: "jump to the previous file", hint: "previous file", scope: "diff" }),
  lineUp: { bindings: [{ key: "up" }, char("k")], label: "↑ / k", help: "up a line", scope: "pager" },
  lineDown: { bindings: [{ key: "down" }, char("j")], label: "↓ / j", help: "down a line", hint: "↑↓ PgUp/PgDn scroll", scope: "pager" },
  top: { bindings: [{ key: "home" }, char("g")], label: "Home / g", help: "to the start", hint: "start", scope: "pager" },
  bottom: { bindings: [{ key: "end" }, char("G")], label: "End / G", help: "to the end", hint: "end", scope: "pager" },
  leavePager: { bindings: [char("q"), { key: "escape" }, { key: "tab" }], label: "q / Esc", help: "back to the chat", hint: "back", scope: "pager" },
  permitOnce: onChar("y", { help: "allow this once", scope: "prompt" }),
  permitAlways: onChar("a", { help: "allow always", scope: "prompt" }),
  reject: onChar("n", { help: "reject (a question: dismiss it; its options answer by number)", scope: "prompt" }),
  tick: { bindings: [char(" ")], label: "Space / Enter", help: "tick or untick the selected item", hint: "tick", scope: "checklists" },
  addItem: onChar("a", { help: "add an item to this checklist", hint: "add item", scope: "checklists" }),
  newChecklist: onChar("c", { help: "create a checklist (its first item)", hint: "new checklist", scope: "checklists" }),
  markUnderKey: onChar("m", {
    help: "mark yourself present under a new key (a meeting, a day)",
    hint: "mark yourself",
    scope: "attendance",
  }),
  markPresent: onChar("p", { help: "mark yourself present", hint: "present", scope: "attendance" }),
  markRemote: onChar("r", { help: "mark yourself remote", hint: "remote", scope: "attendance" }),
  markAbsent: onChar("x", { help: "mark yourself absent", hint: "absent", scope: "attendance" }),
  openDiscussion: onChar("o", {
    help: "open a new discussion (the list); reopen a concluded one",
    hint: "open new",
    scope: "discussions",
  }),
  writePost: onChar("w", { help: "write a post in the discussion", hint: "write", scope: "discussions" }),
  conclude: onChar("c", { help: "conclude the discussion (owner or admin)", hint: "conclude", scope: "discussions" }),
  reopen: onChar("o", { help: "reopen a concluded discussion", hint: "reopen", scope: "discussions" }),
  nextSlide: { bindings: [{ key: "right" }, char(" ")], label: "→ / Space", help: "next slide (the presenter)", hint: "next", scope: "presentations" },
  previousSlide: onKey("left", "←", { help: "previous slide (the presenter)", hint: "previous", scope: "presentations" }),
  endPresentation: onChar("x", { help: "end the presentation (the presenter)", hint: "end", scope: "presentations" }),
  newSchedule: onChar("a", { help: "add a scheduled prompt on a worker", hint: "add", scope: "schedules" }),
  pauseSchedule: onChar("p", { help: "pause or resume the selected schedule", hint: "pause/resume", scope: "schedules" }),
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

/** "n new chat · a add worker": the status bar's hint for these commands, in this order. */
export function hintLine(commands: CommandName[]): string {
  return commands
    .map((name) => {
      const command: Command = KEYMAP[name];
      if (name === "down" || name === "pageDown" || name === "lineDown") return command.hint;
      const key = command.label.split(" / ")[0];
      return `${key} ${command.hint ?? command.help}`;
    })
    .join(" · ");
}
