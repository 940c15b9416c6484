// The rows of a turn: the user's message, the reply streaming into its message, batches of its
// text, its end, retries, and OpenCode's permission and question requests. Run by the chat
// runtime and the send path (chat/), as the daemon itself.
import type { MessageStatus, PartView, TokenCounts } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import { newId } from "../crypto.js";
import { loadChat } from "./chats.js";
import { internalMutation, internalQuery, type WriteCtx } from "./context.js";
import { indexMessageParts } from "./search.js";
import { TABLES } from "./tables.js";

function touchChat(ctx: WriteCtx, chatId: string, busy?: boolean): void {
  if (busy === undefined) ctx.db.prepare("UPDATE chats SET last_activity_at = ?, updated_at = ? WHERE id = ?").run(ctx.now, ctx.now, chatId);
  else ctx.db.prepare("UPDATE chats SET busy = ?, last_activity_at = ?, updated_at = ? WHERE id = ?").run(busy ? 1 : 0, ctx.now, ctx.now, chatId);
  ctx.writes(TABLES.chats, chatId);
}

function nextSeq(ctx: WriteCtx, chatId: string): number {
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
export const beginTurn = internalMutation((ctx, args: { chatId: string; text: string; model: string | null }) => {
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
  indexMessageParts(ctx, id);
  let title = chat.title;
  if (chat.title_source === "pending") {
    title = titleFromPrompt(args.text);
    ctx.db.prepare("UPDATE chats SET title = ?, title_source = 'auto' WHERE id = ?").run(title, chat.id);
  }
  ctx.db.prepare("UPDATE chats SET retry_attempt = NULL, retry_message = NULL, retry_next_at = NULL WHERE id = ?").run(chat.id);
  touchChat(ctx, chat.id, true);
  ctx.writes(TABLES.messages, chat.id);
  return { messageId: id, title, chat };
});

export const setSession = internalMutation((ctx, args: { chatId: string; sessionId: string }) => {
  ctx.db.prepare("UPDATE chats SET opencode_session_id = ?, state = 'active', updated_at = ? WHERE id = ?").run(args.sessionId, ctx.now, args.chatId);
  ctx.writes(TABLES.chats, args.chatId);
});

export const setActive = internalMutation((ctx, args: { chatId: string }) => {
  ctx.db.prepare("UPDATE chats SET state = 'active', updated_at = ? WHERE id = ?").run(ctx.now, args.chatId);
  ctx.writes(TABLES.chats, args.chatId);
});

/** Creates the assistant message a reply streams into (under the id the runtime already gave it, if any). */
export const startReply = internalMutation((ctx, args: { chatId: string; replyTo: string; model: string | null; id?: string }) => {
  const id = args.id ?? newId("message");
  ctx.db
    .prepare("INSERT INTO messages (id, chat_id, seq, role, status, reply_to, model, created_at) VALUES (?, ?, ?, 'assistant', 'streaming', ?, ?, ?)")
    .run(id, args.chatId, nextSeq(ctx, args.chatId), args.replyTo, args.model, ctx.now);
  ctx.writesUnseen(TABLES.messages); // chat.messages leaves out a streaming reply; chat.stream shows it from memory
  return { id, createdAt: ctx.now };
});

export interface ChunkWrite {
  partId: string;
  kind: string;
  text: string;
}

/** One batch of a reply in progress: appended text, and parts whose state matters if we die now. */
export const saveProgress = internalMutation((ctx, args: { messageId: string; chunks: ChunkWrite[]; parts: Array<{ seq: number; part: PartView }> }) => {
  const insert = ctx.db.prepare("INSERT INTO stream_chunks (message_id, part_id, part_kind, text, created_at) VALUES (?, ?, ?, ?, ?)");
  for (const chunk of args.chunks) insert.run(args.messageId, chunk.partId, chunk.kind, chunk.text, ctx.now);
  upsertParts(ctx, args.messageId, args.parts);
  ctx.writesUnseen(TABLES.messages); // the reply is still streaming: chat.stream shows it from memory
});

function upsertParts(ctx: WriteCtx, messageId: string, parts: Array<{ seq: number; part: PartView }>): void {
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
export const finishReply = internalMutation((ctx, args: ReplyOutcome) => {
  upsertParts(
    ctx,
    args.messageId,
    args.parts.map((part, i) => ({ seq: i + 1, part })),
  );
  indexMessageParts(ctx, args.messageId);
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
  ctx.writes(TABLES.messages, args.chatId);
});

export const setRetry = internalMutation((ctx, args: { chatId: string; attempt: number | null; message: string | null; nextAt: number | null }) => {
  ctx.db
    .prepare("UPDATE chats SET retry_attempt = ?, retry_message = ?, retry_next_at = ?, updated_at = ? WHERE id = ?")
    .run(args.attempt, args.message, args.nextAt, ctx.now, args.chatId);
  ctx.writes(TABLES.chats, args.chatId);
});

export const recordRequest = internalMutation(
  (ctx, args: { chatId: string; opencodeRequestId: string; kind: "permission" | "question"; payload: Record<string, unknown> }) => {
    const existing = ctx.db.prepare("SELECT id FROM chat_requests WHERE chat_id = ? AND opencode_request_id = ?").get(args.chatId, args.opencodeRequestId);
    if (existing) return false;
    ctx.db
      .prepare("INSERT INTO chat_requests (id, chat_id, opencode_request_id, kind, status, payload, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)")
      .run(newId("chatRequest"), args.chatId, args.opencodeRequestId, args.kind, JSON.stringify(args.payload), ctx.now);
    ctx.writes(TABLES.requests, args.chatId);
    ctx.writes(TABLES.chats, args.chatId);
    return true;
  },
);

/** Marks a pending request answered (or rejected), by our id or by OpenCode's. */
export const resolveRequest = internalMutation(
  (ctx, args: { chatId: string; opencodeRequestId: string; status: "answered" | "rejected" | "expired"; answer: unknown; userId: string | null }) => {
    const { changes } = ctx.db
      .prepare(
        `UPDATE chat_requests SET status = ?, answer = COALESCE(answer, ?), answered_by = COALESCE(answered_by, ?), answered_at = ?
         WHERE chat_id = ? AND opencode_request_id = ? AND status = 'pending'`,
      )
      .run(args.status, args.answer === null ? null : JSON.stringify(args.answer), args.userId, ctx.now, args.chatId, args.opencodeRequestId);
    if (changes > 0) {
      ctx.writes(TABLES.requests, args.chatId);
      ctx.writes(TABLES.chats, args.chatId);
    }
  },
);

/**
 * Ends a reply from what its batches saved: its parts, with the text of its chunks where that is
 * longer, indexed for search, and the reply given `status` and the error.
 */
function endFromSaved(ctx: WriteCtx, messageId: string, status: "interrupted" | "error", error: { name: string; message: string }): void {
  const saved = ctx.db.prepare("SELECT part_id, seq, data FROM message_parts WHERE message_id = ?").all(messageId) as {
    part_id: string;
    seq: number;
    data: string;
  }[];
  const parts = new Map<string, { seq: number; part: PartView }>(
    saved.map((p) => [p.part_id, { seq: p.seq, part: { id: p.part_id, ...JSON.parse(p.data) } as PartView }]),
  );
  let seq = Math.max(0, ...saved.map((p) => p.seq));
  const chunks = ctx.db.prepare("SELECT part_id, part_kind, text FROM stream_chunks WHERE message_id = ? ORDER BY id").all(messageId) as {
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
  upsertParts(ctx, messageId, [...parts.values()]);
  indexMessageParts(ctx, messageId);
  ctx.db
    .prepare("UPDATE messages SET status = ?, error_name = ?, error_message = ?, completed_at = ? WHERE id = ?")
    .run(status, error.name, error.message, ctx.now, messageId);
}

/**
 * After an unclean stop: replies left "streaming" get their text back from the stream chunks and
 * become `interrupted`; no chat stays busy; requests OpenCode has lost are expired.
 */
export const recoverInterrupted = internalMutation((ctx, _args: Record<string, never>) => {
  const streaming = ctx.db.prepare("SELECT id, chat_id FROM messages WHERE status = 'streaming'").all() as { id: string; chat_id: string }[];
  for (const message of streaming) {
    endFromSaved(ctx, message.id, "interrupted", { name: "Interrupted", message: "the daemon stopped before the reply finished" });
    ctx.writes(TABLES.messages, message.chat_id);
  }
  ctx.db
    .prepare("UPDATE chats SET busy = 0, retry_attempt = NULL, retry_message = NULL, retry_next_at = NULL WHERE busy = 1 OR retry_attempt IS NOT NULL")
    .run();
  ctx.db.prepare("UPDATE chat_requests SET status = 'expired', answered_at = ? WHERE status = 'pending'").run(ctx.now);
  ctx.writes(TABLES.chats);
  ctx.writes(TABLES.requests);
  return streaming.length;
});

/**
 * Ends a turn whose end the store refused for a reason that trying again cannot mend: the reply
 * keeps what its batches saved, as after an unclean stop, fails with the error, and the chat is
 * free for the next prompt.
 */
export const failReply = internalMutation((ctx, args: { chatId: string; messageId: string; error: { name: string; message: string } }) => {
  endFromSaved(ctx, args.messageId, "error", args.error);
  ctx.db.prepare("UPDATE chats SET retry_attempt = NULL, retry_message = NULL, retry_next_at = NULL WHERE id = ?").run(args.chatId);
  touchChat(ctx, args.chatId, false);
  ctx.writes(TABLES.messages, args.chatId);
});

/** Chats idle longer than the timeout become inactive; the next send resumes them. */
export const markInactive = internalMutation((ctx, args: { idleSince: number }) => {
  const { changes } = ctx.db
    .prepare("UPDATE chats SET state = 'inactive', updated_at = ? WHERE state = 'active' AND busy = 0 AND last_activity_at < ?")
    .run(ctx.now, args.idleSince);
  if (changes > 0) ctx.writes(TABLES.chats);
  return changes;
});

/** Which chat an OpenCode session belongs to, for routing events. */
export const chatsWithSessions = internalQuery((ctx, _args: Record<string, never>) => {
  return ctx.db.prepare("SELECT id, worker_id, opencode_session_id FROM chats WHERE opencode_session_id IS NOT NULL").all() as {
    id: string;
    worker_id: string;
    opencode_session_id: string;
  }[];
});
