// Worktree chats and review: a chat in its own git worktree, what a chat changed (as a diff), and
// bringing a worktree's changes into the worker's checkout. Nothing here ever commits or pushes.
import type { ChatView } from "./chat.js";
import { action, defineModule, mutation } from "./define.js";

export interface DiffFile {
  path: string;
  added: number;
  removed: number;
}

export interface ChatDiff {
  chatId: string;
  /** worktree: the worktree against the commit it branched from (git); session: what OpenCode says the session changed. */
  source: "worktree" | "session";
  branch: string | null;
  files: DiffFile[];
  /** A unified diff, uncoloured. */
  patch: string;
  /** git's --stat lines (worktree), or one line per file (session). */
  stat: string;
}

export const worktrees = defineModule("worktrees", {
  /**
   * Creates a chat in a new git worktree; with `onlyIfWorkerDefault`, only if the worker makes
   * worktrees its chats' default (otherwise a chat in its checkout).
   * Its branch is `ocfleet/<title>-<4 chars>` unless given.
   */
  createChat: action<{ worker: string; model?: string; title?: string; branch?: string; from?: string; onlyIfWorkerDefault?: boolean }, ChatView>(),
  /** Whether new chats on a worker get a worktree unless told otherwise (its owner or an admin). */
  setWorkerDefault: mutation<{ worker: string; worktree: boolean }, { worker: string; worktreeByDefault: boolean }>(),
  /** What a chat changed. */
  diff: action<{ chat: string }, ChatDiff>(),
  /** Applies a worktree chat's changes to the worker's checkout, uncommitted; refused on conflict. */
  apply: action<{ chat: string }, { chatId: string; files: string[] }>(),
  /** Removes a worktree chat's worktree (its branch stays); refused with uncommitted changes unless forced, and while a turn runs. */
  removeWorktree: action<{ chat: string; force?: boolean }, ChatView>(),
});
