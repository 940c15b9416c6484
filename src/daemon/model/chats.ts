// The chat tables: rows in and views out, who may use a chat, and creating one. The mutations of
// a turn (messages, replies, requests) are in model/replies.ts.
import type { ChatSummary, ChatView, MessageStatus, MessageView, PartView, RequestView, TokenCounts } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import { looksLikeId, type ChatId, type MessageId, type UserId } from "../../protocol/ids.js";
import { newId } from "../crypto.js";
import { internalQuery, type CallerUser, type ReadCtx, type WriteCtx } from "./context.js";
import { TABLES } from "./tables.js";

export interface ChatRow {
  id: ChatId;
  worker_id: string;
  worker_name: string;
  /** 1 once the worker was removed: the chat stays readable, and takes no more prompts. */
  worker_removed: number;
  /** The machine's name when the worker went with its machine (`machine remove`). */
  removed_machine: string | null;
  machine_name: string;
  owner_id: string;
  owner_name: string;
  title: string;
  title_source: "pending" | "auto" | "user";
  model: string | null;
  opencode_session_id: string | null;
  state: "active" | "inactive";
  busy: number;
  retry_attempt: number | null;
  retry_message: string | null;
  retry_next_at: number | null;
  archived_at: number | null;
  last_activity_at: number;
  created_at: number;
  pending_requests: number;
  /** A worktree chat's worktree (see model/worktrees.ts): the directory OpenCode works in, its branch and base. */
  worktree_directory: string | null;
  worktree_branch: string | null;
  worktree_base: string | null;
  worktree_removed_at: number | null;
  /** What its replies cost, USD. */
  cost: number;
}

/** A chat outlives its worker (chats.worker_name keeps the name), so the worker and machine are LEFT JOINed. */
export const SELECT_CHAT = `SELECT c.*, w.id IS NULL AS worker_removed, COALESCE(m.name, '') AS machine_name, u.name AS owner_name,
    (SELECT COUNT(*) FROM chat_requests r WHERE r.chat_id = c.id AND r.status = 'pending') AS pending_requests,
    (SELECT COALESCE(SUM(mm.cost), 0) FROM messages mm WHERE mm.chat_id = c.id) AS cost
  FROM chats c LEFT JOIN workers w ON w.id = c.worker_id LEFT JOIN machines m ON m.id = w.machine_id JOIN users u ON u.id = c.owner_id`;

export function loadChat(ctx: ReadCtx, ref: string): ChatRow {
  ctx.reads(TABLES.chats, ref);
  const row = ctx.db.prepare(`${SELECT_CHAT} WHERE c.id = ?`).get(ref) as ChatRow | undefined;
  if (!row) throw new FleetError("not_found", `no chat '${ref}' (see: ocfleet chat list)`, { chat: ref });
  return row;
}

interface MessageRow {
  id: MessageId;
  chat_id: ChatId;
  seq: number;
  role: "user" | "assistant";
  status: MessageStatus;
  reply_to: MessageId | null;
  model: string | null;
  tokens_input: number | null;
  tokens_output: number | null;
  tokens_reasoning: number | null;
  tokens_cache_read: number | null;
  tokens_cache_write: number | null;
  cost: number | null;
  error_name: string | null;
  error_message: string | null;
  created_at: number;
  completed_at: number | null;
}

function toMessageView(row: MessageRow, parts: PartView[]): MessageView {
  return {
    id: row.id,
    chatId: row.chat_id,
    role: row.role,
    status: row.status,
    replyTo: row.reply_to,
    parts,
    model: row.model,
    tokens:
      row.tokens_input === null
        ? null
        : {
            input: row.tokens_input,
            output: row.tokens_output ?? 0,
            reasoning: row.tokens_reasoning ?? 0,
            cacheRead: row.tokens_cache_read ?? 0,
            cacheWrite: row.tokens_cache_write ?? 0,
          },
    cost: row.cost,
    error: row.error_name === null ? null : { name: row.error_name, message: row.error_message ?? "" },
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

/** Every message of a chat except one that is streaming now (that one is the stream query's). */
/** The chat's messages but the one streaming, oldest first; with `last`, only the newest `last`. */
export function loadMessages(ctx: ReadCtx, chatId: ChatId, last?: number): MessageView[] {
  ctx.reads(TABLES.messages, chatId);
  const rows = (
    last === undefined
      ? ctx.db.prepare("SELECT * FROM messages WHERE chat_id = ? AND status <> 'streaming' ORDER BY seq").all(chatId)
      : ctx.db.prepare("SELECT * FROM messages WHERE chat_id = ? AND status <> 'streaming' ORDER BY seq DESC LIMIT ?").all(chatId, last).reverse()
  ) as MessageRow[];
  if (rows.length === 0) return [];
  const parts = new Map<string, PartView[]>();
  const partRows = ctx.db
    .prepare(
      `SELECT p.message_id, p.part_id, p.data FROM message_parts p JOIN messages m ON m.id = p.message_id
       WHERE m.chat_id = ? AND m.seq >= ? AND m.status <> 'streaming' ORDER BY p.message_id, p.seq`,
    )
    .all(chatId, rows[0]!.seq) as { message_id: string; part_id: string; data: string }[];
  for (const p of partRows) {
    const list = parts.get(p.message_id) ?? [];
    list.push({ id: p.part_id, ...(JSON.parse(p.data) as object) } as PartView);
    parts.set(p.message_id, list);
  }
  return rows.map((row) => toMessageView(row, parts.get(row.id) ?? []));
}

export interface RequestRow {
  id: RequestView["id"];
  chat_id: ChatId;
  owner_id: string;
  worker_id: string;
  opencode_request_id: string;
  chat_title: string;
  worker_name: string;
  worktree_directory: string | null;
  machine_name: string;
  kind: RequestView["kind"];
  status: RequestView["status"];
  payload: string;
  answer: string | null;
  created_at: number;
  answered_at: number | null;
}

export const SELECT_REQUEST = `SELECT r.*, c.title AS chat_title, c.owner_id, c.worker_id, c.worker_name, c.worktree_directory,
    COALESCE((SELECT m.name FROM workers w JOIN machines m ON m.id = w.machine_id WHERE w.id = c.worker_id), '') AS machine_name
  FROM chat_requests r JOIN chats c ON c.id = r.chat_id`;

export function toRequestView(row: RequestRow): RequestView {
  const payload = JSON.parse(row.payload) as { permission?: RequestView["permission"]; questions?: RequestView["questions"] };
  return {
    id: row.id,
    chatId: row.chat_id,
    chatTitle: row.chat_title,
    workerName: row.worker_name,
    machineName: row.machine_name,
    kind: row.kind,
    status: row.status,
    permission: payload.permission ?? null,
    questions: payload.questions ?? null,
    answer: row.answer === null ? null : (JSON.parse(row.answer) as RequestView["answer"]),
    createdAt: row.created_at,
    answeredAt: row.answered_at,
  };
}

export function toChatView(ctx: ReadCtx, row: ChatRow): ChatView {
  ctx.reads(TABLES.requests, row.id);
  const requests = (ctx.db.prepare(`${SELECT_REQUEST} WHERE r.chat_id = ? AND r.status = 'pending' ORDER BY r.created_at`).all(row.id) as RequestRow[]).map(
    toRequestView,
  );
  ctx.reads(TABLES.messages, row.id);
  const usage = ctx.db
    .prepare(
      `SELECT COALESCE(SUM(tokens_input), 0) AS input, COALESCE(SUM(tokens_output), 0) AS output, COALESCE(SUM(tokens_reasoning), 0) AS reasoning,
              COALESCE(SUM(tokens_cache_read), 0) AS cacheRead, COALESCE(SUM(tokens_cache_write), 0) AS cacheWrite, COALESCE(SUM(cost), 0) AS cost
       FROM messages WHERE chat_id = ?`,
    )
    .get(row.id) as TokenCounts & { cost: number };
  const { cost, ...tokens } = usage;
  return {
    ...toChatSummary(row),
    opencodeSessionId: row.opencode_session_id,
    retry: row.retry_attempt === null ? null : { attempt: row.retry_attempt, message: row.retry_message ?? "", nextAt: row.retry_next_at },
    requests,
    usage: { tokens, cost },
  };
}

export function toChatSummary(row: ChatRow): ChatSummary {
  return {
    id: row.id,
    title: row.title,
    workerId: row.worker_id as ChatView["workerId"],
    workerName: row.worker_name,
    workerRemoved: row.worker_removed === 1,
    removedMachine: row.worker_removed === 1 ? row.removed_machine : null,
    machineName: row.machine_name,
    model: row.model,
    state: row.state,
    archived: row.archived_at !== null,
    busy: row.busy === 1,
    pendingRequests: row.pending_requests,
    cost: row.cost,
    ownerName: row.owner_name,
    lastActivityAt: row.last_activity_at,
    createdAt: row.created_at,
    worktree: row.worktree_branch === null ? null : { branch: row.worktree_branch, base: row.worktree_base ?? "", removed: row.worktree_removed_at !== null },
  };
}

export function canSee(user: CallerUser, ownerId: string): boolean {
  return user.level === "system_admin" || user.id === ownerId;
}

/** A chat by id (or a unique id prefix) that the user may use; others' chats look like missing ones. */
export function accessibleChat(ctx: ReadCtx & { user: CallerUser }, ref: string): ChatRow {
  let id = ref;
  if (!looksLikeId("chat", ref)) {
    ctx.reads(TABLES.chats);
    const matches = (
      ctx.db.prepare("SELECT id, owner_id FROM chats WHERE id LIKE ? ESCAPE '\\' LIMIT 50").all(`${ref.replace(/[\\%_]/g, "\\$&")}%`) as {
        id: string;
        owner_id: string;
      }[]
    ).filter((m) => canSee(ctx.user, m.owner_id));
    if (matches.length > 1) throw new FleetError("invalid_argument", `'${ref}' matches ${matches.length} chats; give more of the id`, { field: "chat" });
    if (matches.length === 1) id = matches[0]!.id;
  }
  const row = ctx.db.prepare("SELECT owner_id FROM chats WHERE id = ?").get(id) as { owner_id: string } | undefined;
  if (!row || !canSee(ctx.user, row.owner_id)) throw new FleetError("not_found", `no chat '${ref}' (see: ocfleet chat list)`, { chat: ref });
  return loadChat(ctx, id);
}

/** A chat the user may use, for code that runs as the daemon on a user's behalf. */
export const getChat = internalQuery((ctx, args: { chat: string; user: CallerUser }) => accessibleChat({ ...ctx, user: args.user }, args.chat));

export function checkModel(ctx: ReadCtx, workerId: string, model: string): void {
  const known = ctx.db.prepare("SELECT provider_id || '/' || model_id AS id FROM worker_models WHERE worker_id = ?").all(workerId) as { id: string }[];
  if (known.length > 0 && !known.some((m) => m.id === model)) {
    throw new FleetError("invalid_argument", `the worker has no model '${model}' (see: ocfleet worker models)`, { field: "model" });
  }
}

/** Creates a chat row; its OpenCode session is made at the first send. A title given here is kept (not replaced by the first prompt's). */
export function insertChat(
  ctx: WriteCtx,
  options: { worker: { id: string; name: string }; ownerId: UserId; title?: string; model?: string; id?: ChatId },
): ChatId {
  const id = options.id ?? newId("chat");
  ctx.db
    .prepare(
      `INSERT INTO chats (id, worker_id, worker_name, owner_id, title, title_source, model, state, last_activity_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)`,
    )
    .run(
      id,
      options.worker.id,
      options.worker.name,
      options.ownerId,
      options.title ?? "New chat",
      options.title ? "user" : "pending",
      options.model ?? null,
      ctx.now,
      ctx.now,
      ctx.now,
    );
  ctx.writes(TABLES.chats, id);
  return id;
}
