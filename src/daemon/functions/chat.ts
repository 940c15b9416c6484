// chat: conversations with a worker's OpenCode. Only a chat's owner (or an admin) may read or
// write it. Replies stream through the chat runtime; this file is the API around it.
import { z } from "zod";
import { api, type RequestView } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import { looksLikeId, type ChatId } from "../../protocol/ids.js";
import {
  accessibleChat,
  canSee,
  checkModel,
  getChat,
  insertChat,
  loadChat,
  loadMessages,
  SELECT_CHAT,
  SELECT_REQUEST,
  toChatSummary,
  toChatView,
  toRequestView,
  type ChatRow,
  type RequestRow,
} from "../model/chats.js";
import type { CallerUser } from "../model/context.js";
import { resolveRequest } from "../model/replies.js";
import { TABLES } from "../model/tables.js";
import { findWorkerFor, requireWorkerRight, usableWorkerOfChat } from "../model/workerAccess.js";
import { defineAction, defineInternalMutation, defineInternalQuery, defineMutation, defineQuery } from "./define.js";

const chatRef = { chat: z.string().trim().min(1, "must name a chat (cht_…)") };
const modelArg = z.string().regex(/^[^/\s]+\/\S+$/, "must be provider/model, as `ocfleet worker models` lists them");

export const create = defineMutation(api.chat.create, {
  access: "user",
  args: z.strictObject({ worker: z.string().trim().min(1), model: modelArg.optional(), title: z.string().trim().min(1).max(200).optional() }),
  handler: (ctx, { worker, model, title }) => {
    const { row, rights } = findWorkerFor(ctx, ctx.user, worker);
    requireWorkerRight(rights, row, "use", "chat on");
    if (model) checkModel(ctx, row.id, model);
    const id = insertChat(ctx, { worker: row, ownerId: ctx.user.id, title, model });
    return toChatView(ctx, loadChat(ctx, id));
  },
});

export const list = defineQuery(api.chat.list, {
  access: "user",
  args: z.strictObject({ worker: z.string().trim().min(1).optional(), all: z.boolean().optional() }),
  handler: (ctx, { worker, all }) => {
    ctx.reads(TABLES.chats);
    ctx.reads(TABLES.requests);
    const where: string[] = [];
    const params: unknown[] = [];
    if (!all) where.push("c.archived_at IS NULL");
    if (!all || ctx.user.level !== "system_admin") {
      where.push("c.owner_id = ?");
      params.push(ctx.user.id);
    }
    if (worker) {
      where.push("c.worker_id = ?");
      params.push(findWorkerFor(ctx, ctx.user, worker).row.id);
    }
    const sql = `${SELECT_CHAT}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY c.last_activity_at DESC`;
    return (ctx.db.prepare(sql).all(...params) as ChatRow[]).map(toChatSummary);
  },
});

export const get = defineQuery(api.chat.get, {
  access: "user",
  args: z.strictObject(chatRef),
  handler: (ctx, { chat }) => toChatView(ctx, accessibleChat(ctx, chat)),
});

export const messages = defineQuery(api.chat.messages, {
  access: "user",
  args: z.strictObject({ ...chatRef, last: z.number().int().min(1, "must be at least 1").optional() }),
  handler: (ctx, { chat, last }) => loadMessages(ctx, accessibleChat(ctx, chat).id, last),
});

export const stream = defineQuery(api.chat.stream, {
  access: "user",
  args: z.strictObject(chatRef),
  handler: (ctx, { chat }) => {
    // Evaluated on every delta: check access with one indexed lookup, then read memory only.
    const owner = looksLikeId("chat", chat)
      ? (ctx.db.prepare("SELECT owner_id FROM chats WHERE id = ?").get(chat) as { owner_id: string } | undefined)
      : undefined;
    const id = owner && canSee(ctx.user, owner.owner_id) ? (chat as ChatId) : accessibleChat(ctx, chat).id;
    ctx.reads(TABLES.chats, id);
    ctx.reads(TABLES.stream, id);
    return ctx.services.chat.streaming(id);
  },
});

export const send = defineAction(api.chat.send, {
  access: "user",
  args: z.strictObject({
    ...chatRef,
    text: z
      .string()
      .refine((t) => t.trim().length > 0, "must not be empty")
      .pipe(z.string().max(200_000)),
    model: modelArg.optional(),
  }),
  handler: (ctx, { chat, text, model }) => ctx.services.chat.send({ chat, user: ctx.user, text, ...(model ? { model } : {}) }),
});

export const abort = defineAction(api.chat.abort, {
  access: "user",
  args: z.strictObject(chatRef),
  handler: async (ctx, { chat }) => {
    const row = ctx.runQuery(getChat, { chat, user: ctx.user });
    // Stopping one's own reply needs no right on the worker: it only ever does less.
    if (!ctx.services.chat.isRunning(row.id) || !row.opencode_session_id || row.worker_removed === 1) return { aborted: false };
    await ctx.services.fleet
      .linkForWorker(row.worker_id)
      .command("session.abort", { workerId: row.worker_id, sessionId: row.opencode_session_id, directory: row.worktree_directory });
    return { aborted: true };
  },
});

const renameChat = defineInternalMutation((ctx, args: { chatId: string; title: string }) => {
  ctx.db.prepare("UPDATE chats SET title = ?, title_source = 'user', updated_at = ? WHERE id = ?").run(args.title, ctx.now, args.chatId);
  ctx.writes(TABLES.chats, args.chatId);
  ctx.writes(TABLES.requests, args.chatId);
});

const mayUseWorker = defineInternalQuery((ctx, args: { chat: ChatRow }) => {
  try {
    usableWorkerOfChat(ctx, ctx.user!, args.chat);
    return true;
  } catch {
    return false;
  }
});

const viewChat = defineInternalQuery((ctx, args: { chatId: string }) => toChatView(ctx, loadChat(ctx, args.chatId)));

export const rename = defineAction(api.chat.rename, {
  access: "user",
  args: z.strictObject({ ...chatRef, title: z.string().trim().min(1, "must not be empty").max(200) }),
  handler: async (ctx, { chat, title }) => {
    const row = ctx.runQuery(getChat, { chat, user: ctx.user });
    ctx.runMutation(renameChat, { chatId: row.id, title });
    if (row.opencode_session_id && ctx.runQuery(mayUseWorker, { chat: row })) {
      // Best effort: the name is ours; OpenCode's copy follows when the worker can be reached.
      await ctx.services.fleet
        .linkForWorker(row.worker_id)
        .command("session.rename", { workerId: row.worker_id, sessionId: row.opencode_session_id, title })
        .catch((err: unknown) => ctx.services.log.warn("could not rename the OpenCode session", { chat: row.id, error: String(err) }));
    }
    return ctx.runQuery(viewChat, { chatId: row.id });
  },
});

export const archive = defineMutation(api.chat.archive, {
  access: "user",
  args: z.strictObject({ ...chatRef, archived: z.boolean().optional() }),
  handler: (ctx, { chat, archived }) => {
    const row = accessibleChat(ctx, chat);
    const archive = archived ?? true;
    if (archive && row.busy === 1)
      throw new FleetError("failed_precondition", `chat '${row.title}' is answering; stop it first with: ocfleet chat abort ${row.id}`);
    ctx.db.prepare("UPDATE chats SET archived_at = ?, updated_at = ? WHERE id = ?").run(archive ? ctx.now : null, ctx.now, row.id);
    ctx.writes(TABLES.chats, row.id);
    return toChatView(ctx, loadChat(ctx, row.id));
  },
});

export const pending = defineQuery(api.chat.pending, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx) => {
    ctx.reads(TABLES.requests);
    ctx.reads(TABLES.chats);
    const mine = ctx.user.level === "system_admin" ? "" : " AND c.owner_id = ?";
    const rows = ctx.db.prepare(`${SELECT_REQUEST} WHERE r.status = 'pending'${mine} ORDER BY r.created_at`).all(...(mine ? [ctx.user.id] : []));
    return (rows as RequestRow[]).map(toRequestView);
  },
});

interface RequestTarget {
  view: RequestView;
  opencodeRequestId: string;
  workerId: string;
  /** A worktree chat's directory: its requests live in OpenCode's instance for it. */
  directory: string | null;
}

/** A pending request by id (or unique prefix) in a chat the user may use. */
const findRequest = defineInternalQuery((ctx, args: { request: string; user: CallerUser }): RequestTarget => {
  const rows = ctx.db.prepare(`${SELECT_REQUEST} WHERE r.id LIKE ? ESCAPE '\\' LIMIT 50`).all(`${args.request.replace(/[\\%_]/g, "\\$&")}%`) as RequestRow[];
  const visible = rows.filter((r) => canSee(args.user, r.owner_id));
  if (visible.length === 0) throw new FleetError("not_found", `no request '${args.request}' (see: ocfleet chat pending)`, { request: args.request });
  if (visible.length > 1)
    throw new FleetError("invalid_argument", `'${args.request}' matches ${visible.length} requests; give more of the id`, { field: "request" });
  const row = visible[0]!;
  const view = toRequestView(row);
  if (view.status !== "pending") throw new FleetError("failed_precondition", `request ${view.id} is already ${view.status}`);
  usableWorkerOfChat(ctx, args.user, { worker_id: row.worker_id, worker_name: row.worker_name, title: row.chat_title });
  return { view, opencodeRequestId: row.opencode_request_id, workerId: row.worker_id, directory: row.worktree_directory };
});

export const permit = defineAction(api.chat.permit, {
  access: "user",
  args: z.strictObject({ request: z.string().trim().min(4, "must name a request (req_…)"), reply: z.enum(["once", "always", "reject"]) }),
  handler: async (ctx, { request, reply }) => {
    const target = ctx.runQuery(findRequest, { request, user: ctx.user });
    if (target.view.kind !== "permission")
      throw new FleetError("invalid_argument", `request ${target.view.id} is a question; answer it with: ocfleet chat answer`, { field: "request" });
    await ctx.services.fleet
      .linkForWorker(target.workerId)
      .command("permission.reply", { workerId: target.workerId, requestId: target.opencodeRequestId, reply, directory: target.directory });
    const status: RequestView["status"] = reply === "reject" ? "rejected" : "answered";
    ctx.runMutation(resolveRequest, { chatId: target.view.chatId, opencodeRequestId: target.opencodeRequestId, status, answer: reply, userId: ctx.user.id });
    return { ...target.view, status, answer: reply, answeredAt: ctx.now };
  },
});

/** Maps what a person typed to a question's options: a label (any case) or its number; else free text. */
function matchAnswers(view: RequestView, answers: string[][]): string[][] {
  const questions = view.questions ?? [];
  if (answers.length !== questions.length) {
    throw new FleetError("invalid_argument", `request ${view.id} asks ${questions.length} question(s); give ${questions.length} answer(s)`, {
      field: "answers",
    });
  }
  return answers.map((choices, i) => {
    const q = questions[i]!;
    if (choices.length === 0) throw new FleetError("invalid_argument", `question ${i + 1} needs an answer`, { field: "answers" });
    if (choices.length > 1 && !q.multiple) throw new FleetError("invalid_argument", `question ${i + 1} takes one answer`, { field: "answers" });
    return choices.map((choice) => {
      const byNumber = /^\d+$/.test(choice) ? q.options[Number(choice) - 1] : undefined;
      const byLabel = q.options.find((o) => o.label.toLowerCase() === choice.trim().toLowerCase());
      const option = byLabel ?? byNumber;
      if (option) return option.label;
      if (!q.custom) throw new FleetError("invalid_argument", `'${choice}' is not one of: ${q.options.map((o) => o.label).join(", ")}`, { field: "answers" });
      return choice;
    });
  });
}

export const answer = defineAction(api.chat.answer, {
  access: "user",
  args: z
    .strictObject({
      request: z.string().trim().min(4, "must name a request (req_…)"),
      answers: z.array(z.array(z.string().min(1))).optional(),
      reject: z.boolean().optional(),
    })
    .refine((a) => (a.answers !== undefined) !== (a.reject === true), { message: "give either answers or reject, not both", path: ["answers"] }),
  handler: async (ctx, { request, answers, reject }) => {
    const target = ctx.runQuery(findRequest, { request, user: ctx.user });
    if (target.view.kind !== "question")
      throw new FleetError("invalid_argument", `request ${target.view.id} is a permission; answer it with: ocfleet chat permit`, { field: "request" });
    const chosen = reject ? null : matchAnswers(target.view, answers!);
    await ctx.services.fleet
      .linkForWorker(target.workerId)
      .command("question.reply", { workerId: target.workerId, requestId: target.opencodeRequestId, answers: chosen, directory: target.directory });
    const status: RequestView["status"] = chosen ? "answered" : "rejected";
    ctx.runMutation(resolveRequest, { chatId: target.view.chatId, opencodeRequestId: target.opencodeRequestId, status, answer: chosen, userId: ctx.user.id });
    return { ...target.view, status, answer: chosen, answeredAt: ctx.now };
  },
});
