// worktrees: chats in their own git worktree, and reviewing what a chat changed. The agent on the
// worker's machine does the git work (agent/git.ts); this file decides who may, and records it.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { api, type ChatDiff } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { ChatId } from "../../protocol/ids.js";
import { loadChat, toChatView } from "../model/chats.js";
import { newId } from "../crypto.js";
import { chatToReview, insertPlainChat, insertWorktreeChat, markWorktreeRemoved, requireWorktree, worktreeWorker } from "../model/worktrees.js";
import { TABLES } from "../model/tables.js";
import { findWorkerFor, requireWorkerRight } from "../model/workerAccess.js";
import { defineAction, defineInternalQuery, defineMutation } from "./define.js";

const chatRef = { chat: z.string().trim().min(1, "must name a chat (cht_…)") };

/** `ocfleet/<the title as a slug>-<4 random chars>`: readable, and two chats with one title do not collide. */
export function defaultBranch(title: string | undefined): string {
  const slug =
    (title ?? "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40)
      .replace(/-+$/, "") || "chat";
  const suffix = [...randomBytes(4)].map((b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
  return `ocfleet/${slug}-${suffix}`;
}

const viewChat = defineInternalQuery((ctx, args: { chatId: string }) => toChatView(ctx, loadChat(ctx, args.chatId)));

export const createChat = defineAction(api.worktrees.createChat, {
  access: "user",
  args: z.strictObject({
    worker: z.string().trim().min(1),
    model: z
      .string()
      .regex(/^[^/\s]+\/\S+$/, "must be provider/model, as `ocfleet worker models` lists them")
      .optional(),
    title: z.string().trim().min(1).max(200).optional(),
    branch: z.string().trim().min(1).max(200).optional(),
    from: z.string().trim().min(1).max(200).optional(),
    onlyIfWorkerDefault: z.boolean().optional(),
  }),
  handler: async (ctx, { worker, model, title, branch, from, onlyIfWorkerDefault }) => {
    const target = ctx.runQuery(worktreeWorker, { user: ctx.user, worker, ...(model ? { model } : {}) });
    if (onlyIfWorkerDefault && !target.worktreeDefault) {
      const plain = ctx.runMutation(insertPlainChat, { worker: target, ownerId: ctx.user.id, title, model });
      return ctx.runQuery(viewChat, { chatId: plain });
    }
    const chatId = newId("chat") as ChatId;
    const worktree = await ctx.services.fleet.linkForWorker(target.id).command("worktree.create", {
      workerId: target.id,
      workerDirectory: target.directory,
      chatId,
      branch: branch ?? defaultBranch(title),
      from: from ?? null,
    });
    ctx.runMutation(insertWorktreeChat, {
      id: chatId,
      worker: target,
      ownerId: ctx.user.id,
      title,
      model,
      worktree: { directory: worktree.directory, branch: worktree.branch, base: worktree.base },
    });
    return ctx.runQuery(viewChat, { chatId });
  },
});

export const diff = defineAction(api.worktrees.diff, {
  access: "user",
  args: z.strictObject(chatRef),
  handler: async (ctx, { chat }): Promise<ChatDiff> => {
    const { chat: row } = ctx.runQuery(chatToReview, { user: ctx.user, chat });
    const link = ctx.services.fleet.linkForWorker(row.worker_id);
    if (row.worktree_branch !== null) {
      const { base, branch } = requireWorktree(row, "show");
      const result = await link.command("worktree.diff", { workerId: row.worker_id, chatId: row.id, base });
      return { chatId: row.id, source: "worktree", branch, ...result };
    }
    // A chat in the shared checkout: only OpenCode knows which of the checkout's changes were this session's.
    if (!row.opencode_session_id) return { chatId: row.id, source: "session", branch: null, files: [], patch: "", stat: "" };
    const { files } = await link.command("session.diff", { workerId: row.worker_id, sessionId: row.opencode_session_id });
    return {
      chatId: row.id,
      source: "session",
      branch: null,
      files: files.map(({ path, added, removed }) => ({ path, added, removed })),
      patch: files.map((f) => (f.patch.endsWith("\n") || !f.patch ? f.patch : `${f.patch}\n`)).join(""),
      stat: files.map((f) => ` ${f.path} | +${f.added} -${f.removed}\n`).join(""),
    };
  },
});

export const apply = defineAction(api.worktrees.apply, {
  access: "user",
  args: z.strictObject(chatRef),
  handler: async (ctx, { chat }) => {
    const { chat: row, workerDirectory } = ctx.runQuery(chatToReview, { user: ctx.user, chat });
    const { base } = requireWorktree(row, "apply");
    const { files } = await ctx.services.fleet
      .linkForWorker(row.worker_id)
      .command("worktree.apply", { workerId: row.worker_id, workerDirectory, chatId: row.id, base });
    return { chatId: row.id, files };
  },
});

export const removeWorktree = defineAction(api.worktrees.removeWorktree, {
  access: "user",
  args: z.strictObject({ ...chatRef, force: z.boolean().optional() }),
  handler: async (ctx, { chat, force }) => {
    const { chat: row, workerDirectory } = ctx.runQuery(chatToReview, { user: ctx.user, chat });
    requireWorktree(row, "remove");
    // Never pull the floor from under a running turn: its tools are writing there.
    if (row.busy === 1 || ctx.services.chat.isRunning(row.id))
      throw new FleetError("failed_precondition", `chat '${row.title}' is answering in its worktree; stop it first with: ocfleet chat abort ${row.id}`);
    await ctx.services.fleet
      .linkForWorker(row.worker_id)
      .command("worktree.remove", { workerId: row.worker_id, workerDirectory, chatId: row.id, force: force === true });
    ctx.runMutation(markWorktreeRemoved, { chatId: row.id });
    return ctx.runQuery(viewChat, { chatId: row.id });
  },
});

export const setWorkerDefault = defineMutation(api.worktrees.setWorkerDefault, {
  access: "user",
  args: z.strictObject({ worker: z.string().trim().min(1), worktree: z.boolean() }),
  handler: (ctx, { worker, worktree }) => {
    const { row, rights } = findWorkerFor(ctx, ctx.user, worker);
    requireWorkerRight(rights, row, "control", "change the worktree default of");
    ctx.db.prepare("UPDATE workers SET worktree_default = ?, updated_at = ? WHERE id = ?").run(worktree ? 1 : 0, ctx.now, row.id);
    ctx.writes(TABLES.workers, row.id);
    return { worker: row.name, worktreeByDefault: worktree };
  },
});
