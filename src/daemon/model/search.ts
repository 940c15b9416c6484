// The search index's write path: the final parts of a message go into the FTS5 index (migration
// 0009) when they are stored: a prompt when it is sent, a reply when it ends. A part that changes
// or goes is taken out by triggers, so the index never holds text that no row has.
import type { WriteCtx } from "./context.js";

/** Puts every part of the message that is not in the index yet into it. */
export function indexMessageParts(ctx: WriteCtx, messageId: string): void {
  ctx.db
    .prepare(
      `INSERT INTO message_search (rowid, body) SELECT part_rowid, body FROM message_search_text
       WHERE part_rowid IN (SELECT rowid FROM message_parts WHERE message_id = ? AND indexed = 0)`,
    )
    .run(messageId);
  ctx.db.prepare("UPDATE message_parts SET indexed = 1 WHERE message_id = ? AND indexed = 0").run(messageId);
}
