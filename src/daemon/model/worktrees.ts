// Worktree chats' data: which worker a worktree chat goes on, recording its worktree, finding a chat
// to review, and marking its worktree removed. The git work itself is the agent's (agent/git.ts).
import { FleetError } from "../../protocol/errors.js";
import type { ChatId } from "../../protocol/ids.js";
import { accessibleChat, checkModel, insertChat, type ChatRow } from "./chats.js";
import { internalMutation, internalQuery, type CallerUser } from "./context.js";
import { TABLES } from "./tables.js";
import { findWorkerFor, requireWorkerRight, usableWorkerOfChat } from "./workerAccess.js";

/** The worker a new worktree chat goes on, if `user` may chat on it. */
export const worktreeWorker = internalQuery((ctx, args: { user: CallerUser; worker: string; model?: string }) => {
  const { row, rights } = findWorkerFor(ctx, args.user, args.worker);
  requireWorkerRight(rights, row, "use", "chat on");
  if (args.model) checkModel(ctx, row.id, args.model);
  const worktreeDefault = (row as typeof row & { worktree_default?: number }).worktree_default === 1;
  return { id: row.id, name: row.name, directory: row.directory, worktreeDefault };
});

/** A chat in the worker's checkout, for `createChat` on a worker without the worktree default. */
export const insertPlainChat = internalMutation(
  (ctx, args: { worker: { id: string; name: string }; ownerId: CallerUser["id"]; title?: string; model?: string }) => insertChat(ctx, args),
);

export const insertWorktreeChat = internalMutation(
  (
    ctx,
    args: {
      id: ChatId;
      worker: { id: string; name: string };
      ownerId: CallerUser["id"];
      title?: string;
      model?: string;
      worktree: { directory: string; branch: string; base: string };
    },
  ) => {
    const id = insertChat(ctx, { id: args.id, worker: args.worker, ownerId: args.ownerId, title: args.title, model: args.model });
    ctx.db
      .prepare("UPDATE chats SET worktree_directory = ?, worktree_branch = ?, worktree_base = ? WHERE id = ?")
      .run(args.worktree.directory, args.worktree.branch, args.worktree.base, id);
    ctx.writes(TABLES.chats, id);
    return id;
  },
);

/** A chat `user` may review or change, with its worker's directory (the worker must be usable). */
export const chatToReview = internalQuery((ctx, args: { user: CallerUser; chat: string }): { chat: ChatRow; workerDirectory: string } => {
  const chat = accessibleChat({ ...ctx, user: args.user }, args.chat);
  const worker = usableWorkerOfChat(ctx, args.user, chat);
  return { chat, workerDirectory: worker.directory };
});

/** The worktree of a worktree chat that still has one; a clear refusal otherwise. */
export function requireWorktree(chat: ChatRow, verb: string): { branch: string; base: string } {
  if (chat.worktree_branch === null || chat.worktree_base === null)
    throw new FleetError("failed_precondition", `chat '${chat.title}' has no worktree (it works in the worker's checkout), so there is nothing to ${verb}`);
  if (chat.worktree_removed_at !== null) throw new FleetError("failed_precondition", `the worktree of chat '${chat.title}' was removed already`);
  return { branch: chat.worktree_branch, base: chat.worktree_base };
}

export const markWorktreeRemoved = internalMutation((ctx, args: { chatId: string }) => {
  ctx.db.prepare("UPDATE chats SET worktree_removed_at = ?, updated_at = ? WHERE id = ?").run(ctx.now, ctx.now, args.chatId);
  ctx.writes(TABLES.chats, args.chatId);
});
