// The chat tables: rows in and views out. Internal mutations used by the chat runtime and by
// the chat functions; none of them is reachable from a client directly.
import type { ChatSummary, ChatView, MessageStatus, MessageView, PartView, RequestView, TokenCounts } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { ChatId, MessageId } from "../../protocol/ids.js";
import { newId } from "../crypto.js";
import { defineInternalMutation, defineInternalQuery, type MutationCtx, type QueryCtx } from "../functions/define.js";

/** Live-query tables, each keyed by chat id. */
export const CHATS = "chats";
export const MESSAGES = "chat_messages";
export const STREAM = "chat_stream";
export const REQUESTS = "chat_requests";

export interface ChatRow {
  id: ChatId;
  worker_id: string;
  worker_name: string;
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
}

export const SELECT_CHAT = `SELECT c.*, w.name AS worker_name, m.name AS machine_name, u.name AS owner_name,
    (SELECT COUNT(*) FROM chat_requests r WHERE r.chat_id = c.id AND r.status = 'pending') AS pending_requests
  FROM chats c JOIN workers w ON w.id = c.worker_id JOIN machines m ON m.id = w.machine_id JOIN users u ON u.id = c.owner_id`;

export function loadChat(ctx: QueryCtx, ref: string): ChatRow {
  ctx.reads(CHATS, ref);
  const row = ctx.db.prepare(`${SELECT_CHAT} WHERE c.id = ?`).get(ref) as ChatRow | undefined;
  if (!row) throw new FleetError("not_found", `no chat '${ref}' (see: ocfleet chat list)`, { chat: ref });
  return row;
}

interface MessageRow {
  id: MessageId;
  chat_id: ChatId;
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
export function loadMessages(ctx: QueryCtx, chatId: ChatId): MessageView[] {
  ctx.reads(MESSAGES, chatId);
  const rows = ctx.db.prepare("SELECT * FROM messages WHERE chat_id = ? AND status <> 'streaming' ORDER BY seq").all(chatId) as MessageRow[];
  const parts = new Map<string, PartView[]>();
  const partRows = ctx.db
    .prepare(
      `SELECT p.message_id, p.part_id, p.data FROM message_parts p JOIN messages m ON m.id = p.message_id
       WHERE m.chat_id = ? AND m.status <> 'streaming' ORDER BY p.message_id, p.seq`,
    )
    .all(chatId) as { message_id: string; part_id: string; data: string }[];
  for (const p of partRows) {
    const list = parts.get(p.message_id) ?? [];
    list.push({ id: p.part_id, ...(JSON.parse(p.data) as object) } as PartView);
    parts.set(p.message_id, list);
  }
  return rows.map((row) => toMessageView(row, parts.get(row.id) ?? []));
}

interface RequestRow {
  id: RequestView["id"];
  chat_id: ChatId;
  chat_title: string;
  worker_name: string;
  kind: RequestView["kind"];
  status: RequestView["status"];
  payload: string;
  answer: string | null;
  created_at: number;
  answered_at: number | null;
}

export const SELECT_REQUEST = `SELECT r.*, c.title AS chat_title, w.name AS worker_name
  FROM chat_requests r JOIN chats c ON c.id = r.chat_id JOIN workers w ON w.id = c.worker_id`;

export function toRequestView(row: RequestRow): RequestView {
  const payload = JSON.parse(row.payload) as { permission?: RequestView["permission"]; questions?: RequestView["questions"] };
  return {
    id: row.id,
    chatId: row.chat_id,
    chatTitle: row.chat_title,
    workerName: row.worker_name,
    kind: row.kind,
    status: row.status,
    permission: payload.permission ?? null,
    questions: payload.questions ?? null,
    answer: row.answer === null ? null : (JSON.parse(row.answer) as RequestView["answer"]),
    createdAt: row.created_at,
    answeredAt: row.answered_at,
  };
}

export function toChatView(ctx: QueryCtx, row: ChatRow): ChatView {
  ctx.reads(REQUESTS, row.id);
  const requests = (ctx.db.prepare(`${SELECT_REQUEST} WHERE r.chat_id = ? AND r.status = 'pending' ORDER BY r.created_at`).all(row.id) as RequestRow[]).map(
    toRequestView,
  );
  ctx.reads(MESSAGES, row.id);
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
    machineName: row.machine_name,
    model: row.model,
    state: row.state,
    archived: row.archived_at !== null,
    busy: row.busy === 1,
    pendingRequests: row.pending_requests,
    ownerName: row.owner_name,
    lastActivityAt: row.last_activity_at,
    createdAt: row.created_at,
  };
}

function touchChat(ctx: MutationCtx, chatId: string, busy?: boolean): void {
  if (busy === undefined) ctx.db.prepare("UPDATE chats SET last_activity_at = ?, updated_at = ? WHERE id = ?").run(ctx.now, ctx.now, chatId);
  else ctx.db.prepare("UPDATE chats SET busy = ?, last_activity_at = ?, updated_at = ? WHERE id = ?").run(busy ? 1 : 0, ctx.now, ctx.now, chatId);
  ctx.writes(CHATS, chatId);
}

function nextSeq(ctx: MutationCtx, chatId: string): number {
  return (ctx.db.prepare("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM messages WHERE chat_id = ?").get(chatId) as { next: number }).next;
}

/** A title from the first prompt: its first line, about 50 characters, cut at a word. */
export function titleFromPrompt(text: string): string {
  const line = text.trim().split("\n")[0]!.replace(/\s+/g, " ");
  if (line.length <= 50) return line || "New chat";
  const cut = line.slice(0, 50);
  const space = cut.lastIndexOf(" ");
  return `${(space > 30 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** Records the user's message and marks the chat busy. Refuses a chat that is busy or archived. */
export const beginTurn = defineInternalMutation((ctx, args: { chatId: string; text: string; model: string | null }) => {
  const chat = loadChat(ctx, args.chatId);
  if (chat.archived_at !== null) throw new FleetError("failed_precondition", `chat '${chat.title}' is archived; unarchive it to send`);
  if (chat.busy === 1)
    throw new FleetError("failed_precondition", `chat '${chat.title}' is still answering; wait for it, or stop it with: ocfleet chat abort ${chat.id}`);
  const id = newId("message");
  ctx.db
    .prepare("INSERT INTO messages (id, chat_id, seq, role, status, model, created_at) VALUES (?, ?, ?, 'user', 'sent', ?, ?)")
    .run(id, chat.id, nextSeq(ctx, chat.id), args.model, ctx.now);
  ctx.db
    .prepare("INSERT INTO message_parts (message_id, part_id, seq, kind, data) VALUES (?, 'text', 1, 'text', ?)")
    .run(id, JSON.stringify({ kind: "text", text: args.text }));
  let title = chat.title;
  if (chat.title_source === "pending") {
    title = titleFromPrompt(args.text);
    ctx.db.prepare("UPDATE chats SET title = ?, title_source = 'auto' WHERE id = ?").run(title, chat.id);
  }
  ctx.db.prepare("UPDATE chats SET retry_attempt = NULL, retry_message = NULL, retry_next_at = NULL WHERE id = ?").run(chat.id);
  touchChat(ctx, chat.id, true);
  ctx.writes(MESSAGES, chat.id);
  return { messageId: id, title, chat };
});

export const setSession = defineInternalMutation((ctx, args: { chatId: string; sessionId: string }) => {
  ctx.db.prepare("UPDATE chats SET opencode_session_id = ?, state = 'active', updated_at = ? WHERE id = ?").run(args.sessionId, ctx.now, args.chatId);
  ctx.writes(CHATS, args.chatId);
});

export const setActive = defineInternalMutation((ctx, args: { chatId: string }) => {
  ctx.db.prepare("UPDATE chats SET state = 'active', updated_at = ? WHERE id = ?").run(ctx.now, args.chatId);
  ctx.writes(CHATS, args.chatId);
});

/** Creates the assistant message a reply streams into. */
export const startReply = defineInternalMutation((ctx, args: { chatId: string; replyTo: string; model: string | null }) => {
  const id = newId("message");
  ctx.db
    .prepare("INSERT INTO messages (id, chat_id, seq, role, status, reply_to, model, created_at) VALUES (?, ?, ?, 'assistant', 'streaming', ?, ?, ?)")
    .run(id, args.chatId, nextSeq(ctx, args.chatId), args.replyTo, args.model, ctx.now);
  return { id, createdAt: ctx.now };
});

export interface ChunkWrite {
  partId: string;
  kind: string;
  text: string;
}

/** One batch of a reply in progress: appended text, and parts whose state matters if we die now. */
export const saveProgress = defineInternalMutation((ctx, args: { messageId: string; chunks: ChunkWrite[]; parts: Array<{ seq: number; part: PartView }> }) => {
  const insert = ctx.db.prepare("INSERT INTO stream_chunks (message_id, part_id, part_kind, text, created_at) VALUES (?, ?, ?, ?, ?)");
  for (const chunk of args.chunks) insert.run(args.messageId, chunk.partId, chunk.kind, chunk.text, ctx.now);
  upsertParts(ctx, args.messageId, args.parts);
});

function upsertParts(ctx: MutationCtx, messageId: string, parts: Array<{ seq: number; part: PartView }>): void {
  const upsert = ctx.db.prepare(
    `INSERT INTO message_parts (message_id, part_id, seq, kind, data) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (message_id, part_id) DO UPDATE SET seq = excluded.seq, kind = excluded.kind, data = excluded.data`,
  );
  for (const { seq, part } of parts) {
    const { id, ...data } = part;
    upsert.run(messageId, id, seq, part.kind, JSON.stringify(data));
  }
}

export interface ReplyOutcome {
  chatId: string;
  messageId: string;
  status: Exclude<MessageStatus, "sent" | "streaming">;
  parts: PartView[];
  model: string | null;
  tokens: TokenCounts | null;
  cost: number | null;
  error: { name: string; message: string } | null;
  opencodeMessageIds: string[];
}

/** Ends a turn: the reply's final parts and figures, and the chat no longer busy. */
export const finishReply = defineInternalMutation((ctx, args: ReplyOutcome) => {
  upsertParts(
    ctx,
    args.messageId,
    args.parts.map((part, i) => ({ seq: i + 1, part })),
  );
  const t = args.tokens;
  ctx.db
    .prepare(
      `UPDATE messages SET status = ?, model = COALESCE(?, model), tokens_input = ?, tokens_output = ?, tokens_reasoning = ?,
         tokens_cache_read = ?, tokens_cache_write = ?, cost = ?, error_name = ?, error_message = ?, opencode_message_ids = ?, completed_at = ?
       WHERE id = ?`,
    )
    .run(
      args.status,
      args.model,
      t?.input ?? null,
      t?.output ?? null,
      t?.reasoning ?? null,
      t?.cacheRead ?? null,
      t?.cacheWrite ?? null,
      args.cost,
      args.error?.name ?? null,
      args.error?.message ?? null,
      JSON.stringify(args.opencodeMessageIds),
      ctx.now,
      args.messageId,
    );
  ctx.db.prepare("UPDATE chats SET retry_attempt = NULL, retry_message = NULL, retry_next_at = NULL WHERE id = ?").run(args.chatId);
  touchChat(ctx, args.chatId, false);
  ctx.writes(MESSAGES, args.chatId);
});

export const setRetry = defineInternalMutation((ctx, args: { chatId: string; attempt: number | null; message: string | null; nextAt: number | null }) => {
  ctx.db
    .prepare("UPDATE chats SET retry_attempt = ?, retry_message = ?, retry_next_at = ?, updated_at = ? WHERE id = ?")
    .run(args.attempt, args.message, args.nextAt, ctx.now, args.chatId);
  ctx.writes(CHATS, args.chatId);
});

export const recordRequest = defineInternalMutation(
  (ctx, args: { chatId: string; opencodeRequestId: string; kind: "permission" | "question"; payload: Record<string, unknown> }) => {
    const existing = ctx.db.prepare("SELECT id FROM chat_requests WHERE chat_id = ? AND opencode_request_id = ?").get(args.chatId, args.opencodeRequestId);
    if (existing) return;
    ctx.db
      .prepare("INSERT INTO chat_requests (id, chat_id, opencode_request_id, kind, status, payload, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)")
      .run(newId("chatRequest"), args.chatId, args.opencodeRequestId, args.kind, JSON.stringify(args.payload), ctx.now);
    ctx.writes(REQUESTS, args.chatId);
    ctx.writes(CHATS, args.chatId);
  },
);

/** Marks a pending request answered (or rejected), by our id or by OpenCode's. */
export const resolveRequest = defineInternalMutation(
  (ctx, args: { chatId: string; opencodeRequestId: string; status: "answered" | "rejected" | "expired"; answer: unknown; userId: string | null }) => {
    const { changes } = ctx.db
      .prepare(
        `UPDATE chat_requests SET status = ?, answer = COALESCE(answer, ?), answered_by = COALESCE(answered_by, ?), answered_at = ?
         WHERE chat_id = ? AND opencode_request_id = ? AND status = 'pending'`,
      )
      .run(args.status, args.answer === null ? null : JSON.stringify(args.answer), args.userId, ctx.now, args.chatId, args.opencodeRequestId);
    if (changes > 0) {
      ctx.writes(REQUESTS, args.chatId);
      ctx.writes(CHATS, args.chatId);
    }
  },
);

/**
 * After an unclean stop: replies left "streaming" get their text back from the stream chunks and
 * become `interrupted`; no chat stays busy; requests OpenCode has lost are expired.
 */
export const recoverInterrupted = defineInternalMutation((ctx, _args: Record<string, never>) => {
  const streaming = ctx.db.prepare("SELECT id, chat_id FROM messages WHERE status = 'streaming'").all() as { id: string; chat_id: string }[];
  for (const message of streaming) {
    const saved = ctx.db.prepare("SELECT part_id, seq, data FROM message_parts WHERE message_id = ?").all(message.id) as {
      part_id: string;
      seq: number;
      data: string;
    }[];
    const parts = new Map<string, { seq: number; part: PartView }>(
      saved.map((p) => [p.part_id, { seq: p.seq, part: { id: p.part_id, ...JSON.parse(p.data) } as PartView }]),
    );
    let seq = Math.max(0, ...saved.map((p) => p.seq));
    const chunks = ctx.db.prepare("SELECT part_id, part_kind, text FROM stream_chunks WHERE message_id = ? ORDER BY id").all(message.id) as {
      part_id: string;
      part_kind: string;
      text: string;
    }[];
    const texts = new Map<string, { kind: string; text: string }>();
    for (const c of chunks) {
      const t = texts.get(c.part_id) ?? { kind: c.part_kind, text: "" };
      t.text += c.text;
      texts.set(c.part_id, t);
    }
    for (const [partId, t] of texts) {
      const current = parts.get(partId);
      const known = current && (current.part.kind === "text" || current.part.kind === "reasoning") ? current.part.text : "";
      if (t.text.length > known.length)
        parts.set(partId, { seq: current?.seq ?? ++seq, part: { id: partId, kind: t.kind as "text" | "reasoning", text: t.text } });
    }
    upsertParts(ctx, message.id, [...parts.values()]);
    ctx.db
      .prepare("UPDATE messages SET status = 'interrupted', error_name = 'Interrupted', error_message = ?, completed_at = ? WHERE id = ?")
      .run("the daemon stopped before the reply finished", ctx.now, message.id);
    ctx.writes(MESSAGES, message.chat_id);
  }
  ctx.db
    .prepare("UPDATE chats SET busy = 0, retry_attempt = NULL, retry_message = NULL, retry_next_at = NULL WHERE busy = 1 OR retry_attempt IS NOT NULL")
    .run();
  ctx.db.prepare("UPDATE chat_requests SET status = 'expired', answered_at = ? WHERE status = 'pending'").run(ctx.now);
  ctx.writes(CHATS);
  ctx.writes(REQUESTS);
  return streaming.length;
});

/** Chats idle longer than the timeout become inactive; the next send resumes them. */
export const markInactive = defineInternalMutation((ctx, args: { idleSince: number }) => {
  const { changes } = ctx.db
    .prepare("UPDATE chats SET state = 'inactive', updated_at = ? WHERE state = 'active' AND busy = 0 AND last_activity_at < ?")
    .run(ctx.now, args.idleSince);
  if (changes > 0) ctx.writes(CHATS);
  return changes;
});

/** Which chat an OpenCode session belongs to, for routing events. */
export const chatsWithSessions = defineInternalQuery((ctx, _args: Record<string, never>) => {
  return ctx.db.prepare("SELECT id, worker_id, opencode_session_id FROM chats WHERE opencode_session_id IS NOT NULL").all() as {
    id: string;
    worker_id: string;
    opencode_session_id: string;
  }[];
});
