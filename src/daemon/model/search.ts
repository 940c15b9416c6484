// The search index's write path: the final parts of a message go into the FTS5 index (migration
// 0010) when they are stored: a prompt when it is sent, a reply when it ends. A part that changes
// or goes is taken out by triggers, so the index never holds text that no row has.
import { storeFault } from "../db/store-fault.js";
import type { WriteCtx } from "./context.js";

/**
 * Puts every part of the message that is not in the index yet into it. Search never refuses a
 * message's write: a part SQLite's JSON functions cannot read (a tool input nested past their 1000
 * levels, as rows saved before the OpenCode adapter capped it may hold) fails the one statement
 * for the whole message, so the parts are then indexed one at a time, each in a savepoint, and
 * that part stays out of search. A full or failing disk still fails the write.
 */
export function indexMessageParts(ctx: WriteCtx, messageId: string): void {
  try {
    ctx.db.transaction(() => indexWhere(ctx, "message_id = ?", messageId))();
  } catch (err) {
    if (storeFault(err)) throw err;
    const unindexed = ctx.db.prepare("SELECT rowid FROM message_parts WHERE message_id = ? AND indexed = 0").pluck().all(messageId) as number[];
    for (const rowid of unindexed) {
      try {
        ctx.db.transaction(() => indexWhere(ctx, "rowid = ?", rowid))();
      } catch (partErr) {
        if (storeFault(partErr)) throw partErr;
      }
    }
  }
}

function indexWhere(ctx: WriteCtx, where: "message_id = ?" | "rowid = ?", key: string | number): void {
  ctx.db
    .prepare(
      `INSERT INTO message_search (rowid, body) SELECT part_rowid, body FROM message_search_text
       WHERE part_rowid IN (SELECT rowid FROM message_parts WHERE ${where} AND indexed = 0)`,
    )
    .run(key);
  ctx.db.prepare(`UPDATE message_parts SET indexed = 1 WHERE ${where} AND indexed = 0`).run(key);
}
