// Presentations: a markdown deck split into slides; the presenter moves, followers follow live.
import type { PresentationId, UserId } from "../ids.js";
import { defineModule, mutation, query } from "./define.js";

export type PresentationState = "running" | "stopped";

export interface PresentationView {
  id: PresentationId;
  title: string;
  presenterId: UserId;
  presenterName: string;
  state: PresentationState;
  slideCount: number;
  /** The slide shown now, 1-based. */
  current: number;
  /** The markdown of the current slide. */
  slide: string;
  /**
   * Goes up by one with every change the daemon applies. A follower shows a view only if its
   * version is higher than the one on screen, so a late frame never moves it backwards.
   */
  version: number;
  /** The presenter's clock reading of the command that is in effect (last writer wins). */
  commandAt: number;
  startedAt: number;
  stoppedAt: number | null;
}

export type PresentationSummary = Omit<PresentationView, "slide">;

/**
 * What a presenter command did. `applied` is false when a command with a newer timestamp had
 * been applied already: it lost the race and changed nothing.
 */
export interface PresenterCommandResult {
  applied: boolean;
  /** Why it was not applied, or what is worth knowing ("already on the last slide"). */
  reason: string | null;
  presentation: PresentationView;
}

/** `id` is optional: the caller's newest running presentation. `at`: the client's clock, ms since the epoch. */
type Command = { id?: string; at: number };

export const presentations = defineModule("presentations", {
  /**
   * Splits the markdown into slides on lines that are exactly `---` (not inside code fences);
   * the caller becomes the presenter. The title defaults to the deck's first heading.
   */
  start: mutation<{ markdown: string; title?: string }, PresentationView>(),
  /** Running presentations, newest first; with `all`, ended ones too. */
  list: query<{ all?: boolean }, PresentationSummary[]>(),
  /** What followers watch; null when no presentation has the id. */
  get: query<{ id: string }, PresentationView | null>(),
  next: mutation<Command, PresenterCommandResult>(),
  prev: mutation<Command, PresenterCommandResult>(),
  goto: mutation<Command & { slide: number }, PresenterCommandResult>(),
  stop: mutation<Command, PresenterCommandResult>(),
});
