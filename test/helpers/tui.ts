// The TUI under test: the built `ocfleet` opened in a real terminal (helpers/pty.ts) on a test's
// home, and the key sequences TUI tests share (to a chat, to a screen, searching, back and quit).
import { expect } from "vitest";
import { type PtySession, startPty } from "./pty.js";

export interface TuiOptions {
  cols: number;
  rows: number;
  /** Arguments after `ocfleet` (none: the TUI on the home's own daemon). */
  args?: string[];
  /** Added to the terminal's environment (NO_COLOR, OCFLEET_TUI_MOUSE…). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The TUI in a new terminal of this size on the home's daemon. CI is set on purpose: Ink alone
 * would then draw nothing until exit (ocfleet hides it from Ink), and a developer's shell or a CI
 * job with a terminal may well have it set.
 */
export function openTui(home: string, options: TuiOptions): PtySession {
  const env = { ...process.env, CI: "true", OCFLEET_HOME: home, ...options.env };
  return startPty(options.args ?? [], { env, cols: options.cols, rows: options.rows });
}

/**
 * Runs a test's steps in a new TUI and kills its terminal however they end. Returns the session,
 * for checks on everything it wrote once it has gone.
 */
export async function withTui(home: string, options: TuiOptions, steps: (term: PtySession) => Promise<void>): Promise<PtySession> {
  const term = openTui(home, options);
  try {
    await steps(term);
  } finally {
    term.kill();
  }
  return term;
}

/** q on the fleet: the TUI exits 0. */
export async function quit(term: PtySession): Promise<void> {
  term.write("q");
  expect((await term.exited).exitCode).toBe(0);
}

/** Tab back to the fleet (its hint line shows), then quit. */
export async function backToFleetAndQuit(term: PtySession): Promise<void> {
  term.write("\t");
  await term.waitFor(/↑↓ move/);
  await quit(term);
}

/**
 * From the machine (selected first) down to its worker's newest chat, one key at a time, each
 * waited for (keys in one read are another test's business). `workerState` is what the worker's
 * details must show on the way.
 */
export async function selectNewestChat(term: PtySession, chatShown: RegExp | string, workerState: RegExp = /state: /): Promise<void> {
  await term.waitFor(/status: online/);
  await term.waitFor(TREE_WORKER_ROW);
  term.write("j");
  await term.waitFor(workerState);
  await term.waitFor(TREE_CHAT_ROW);
  term.write("j");
  await term.waitFor(chatShown);
}

// The fleet tree's machines, workers and chats arrive in separate subscriptions, so its rows show
// one kind at a time: a j pressed before the row it would move to is drawn moves nowhere.
/** A worker's row at the left edge of the tree ("│  ■ main idle"). */
export const TREE_WORKER_ROW = /^│ {2}■ \S/m;
/** A chat's row ("│    title", or "│  ● title" when unread). */
export const TREE_CHAT_ROW = /^│(?: {4}| {2}● )\S/m;

/** g and the screen's number in the Go to list, until the screen shows. */
export async function goToScreen(term: PtySession, number: string, screenShows: RegExp | string): Promise<void> {
  term.write("g");
  await term.waitFor("Go to");
  term.write(number);
  await term.waitFor(screenShows);
}

/** / and the text typed, until the hit shows (Enter then opens it). */
export async function search(term: PtySession, text: string, hitShown: RegExp | string): Promise<void> {
  term.write("/");
  await term.waitFor("Search chats and messages");
  term.write(text);
  await term.waitFor(hitShown);
}
