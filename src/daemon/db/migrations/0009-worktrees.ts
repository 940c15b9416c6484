// Worktree chats: a chat may run in a git worktree of its worker's repository, made for it. The
// chat keeps where the worktree is, its branch and the commit it branched from (what `chat diff`
// compares against); a worker may make worktrees the default for its new chats.
import type { Migration } from "../migrate.js";

export const worktrees: Migration = {
  version: 9,
  name: "worktrees",
  up(db) {
    db.exec(`
      ALTER TABLE chats ADD COLUMN worktree_directory TEXT;
      ALTER TABLE chats ADD COLUMN worktree_branch TEXT;
      ALTER TABLE chats ADD COLUMN worktree_base TEXT;
      ALTER TABLE chats ADD COLUMN worktree_removed_at INTEGER;
      ALTER TABLE workers ADD COLUMN worktree_default INTEGER NOT NULL DEFAULT 0;
    `);
  },
};
