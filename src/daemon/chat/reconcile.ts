// Replies the hub gave up on because their machine went silent, reconciled from OpenCode's own
// record when the machine comes back: the agent kept the worker running, so the reply usually
// finished there; what OpenCode stored becomes the reply (completed, or an error it recorded).
import type { PartView } from "../../protocol/api/index.js";
import type { HubLink } from "../agent/link.js";
import type { OpencodeMessage } from "../agent/opencode.js";
import { internalMutation, internalQuery } from "../model/context.js";
import { finishReply } from "../model/replies.js";
import { TABLES } from "../model/tables.js";
import { mergeReplyRecord } from "./record.js";

/** Replies interrupted this recently are looked at again; older ones stay as they are. */
const RECONCILE_WINDOW_MS = 24 * 3600_000;

interface InterruptedReply {
  chat_id: string;
  reply_id: string;
  session_id: string;
  started_at: number;
}

/** The latest reply of each chat on the worker, if it was interrupted and is recent. */
const interruptedReplies = internalQuery((ctx, args: { workerId: string }): InterruptedReply[] => {
  return ctx.db
    .prepare(
      `SELECT c.id AS chat_id, r.id AS reply_id, c.opencode_session_id AS session_id, u.created_at AS started_at
       FROM chats c JOIN messages r ON r.chat_id = c.id AND r.seq = (SELECT MAX(seq) FROM messages WHERE chat_id = c.id)
       JOIN messages u ON u.id = r.reply_to
       WHERE c.worker_id = ? AND c.opencode_session_id IS NOT NULL AND c.busy = 0 AND r.role = 'assistant' AND r.status = 'interrupted'
         AND r.created_at > ?`,
    )
    .all(args.workerId, ctx.now - RECONCILE_WINDOW_MS) as InterruptedReply[];
});

const partsOf = internalQuery((ctx, args: { messageId: string }): PartView[] => {
  // The id is a column of its own; the data holds the rest of the part.
  const rows = ctx.db.prepare("SELECT part_id, data FROM message_parts WHERE message_id = ? ORDER BY seq").all(args.messageId) as {
    part_id: string;
    data: string;
  }[];
  return rows.map((row) => ({ ...JSON.parse(row.data), id: row.part_id }) as PartView);
});

/** Only while the reply is still the interrupted one (a new send may have come meanwhile). */
const stillInterrupted = internalMutation((ctx, args: { replyId: string }) => {
  const row = ctx.db.prepare("SELECT status FROM messages WHERE id = ?").get(args.replyId) as { status: string } | undefined;
  ctx.writesUnseen(TABLES.messages);
  return row?.status === "interrupted";
});

export interface ReconcileDeps {
  runQuery: <A, R>(def: import("../model/context.js").InternalQuery<A, R>, args: A) => R;
  runMutation: <A, R>(def: import("../model/context.js").InternalMutation<A, R>, args: A) => R;
}

/** Reads each interrupted reply of the worker back from OpenCode and stores what it finished as. */
export async function reconcileWorker(deps: ReconcileDeps, link: HubLink, workerId: string): Promise<number> {
  let reconciled = 0;
  for (const reply of deps.runQuery(interruptedReplies, { workerId })) {
    const { messages } = await link.command("session.messages", { workerId, sessionId: reply.session_id, limit: 100 });
    const known = new Map(deps.runQuery(partsOf, { messageId: reply.reply_id }).map((part) => [part.id, part] as const));
    const record = mergeReplyRecord({ opencodeUserMessageId: null, startedAt: reply.started_at, parts: known }, messages);
    const last: OpencodeMessage | undefined = record.messages.at(-1);
    // Not finished on the agent either (it was cut off too): it stays interrupted.
    if (!last || last.completedAt === null || (last.finish === "tool-calls" && !last.error)) continue;
    if (!deps.runMutation(stillInterrupted, { replyId: reply.reply_id })) continue;
    const tokens = { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 };
    let cost = 0;
    for (const m of record.messages) {
      if (m.tokens) for (const key of Object.keys(tokens) as (keyof typeof tokens)[]) tokens[key] += m.tokens[key];
      cost += m.cost ?? 0;
    }
    deps.runMutation(finishReply, {
      chatId: reply.chat_id,
      messageId: reply.reply_id,
      status: last.error ? "error" : "completed",
      parts: [...record.parts.values()],
      model: last.providerId && last.modelId ? `${last.providerId}/${last.modelId}` : null,
      tokens,
      cost,
      error: last.error,
      opencodeMessageIds: record.messages.map((m) => m.id),
    });
    reconciled++;
  }
  return reconciled;
}
