// search: full-text search over the messages the caller may read, through the FTS5 index that the
// write path keeps (model/search.ts). Access is chat show's: your own chats; admins' --all, everyone's.
import { z } from "zod";
import { api, type SearchHit, type SearchRole, type SnippetPiece } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { ChatId, MessageId } from "../../protocol/ids.js";
import { toFtsQuery, wantedWords } from "../model/searchQuery.js";
import { FTS_SNIPPET_MAX_CHARS, LONG_SNIPPET_READ_CHARS, longTextSnippet } from "../model/snippet.js";
import { TABLES } from "../model/tables.js";
import { durationArg, durationMs } from "./args.js";
import { defineQuery } from "./define.js";

// Marks snippet() puts around matches. A control character in the text itself would be read as a
// mark too; that costs only a wrong highlight, never wrong text.
const OPEN = "\u0001";
const CLOSE = "\u0002";

interface HitRow {
  rowid: number;
  chat_id: ChatId;
  title: string;
  message_id: MessageId;
  part_id: string;
  kind: string;
  role: "user" | "assistant";
  worker_name: string;
  machine_name: string;
  owner_name: string;
  created_at: number;
}

const ROLE_FILTER: Record<SearchRole, string> = {
  user: "m.role = 'user'",
  assistant: "m.role = 'assistant' AND p.kind <> 'tool'",
  tool: "p.kind = 'tool'",
};

function toPieces(snippet: string): SnippetPiece[] {
  const pieces: SnippetPiece[] = [];
  for (const [i, chunk] of snippet.split(OPEN).entries()) {
    const [inside, after] = i === 0 ? [null, chunk] : splitOnce(chunk, CLOSE);
    if (inside) pieces.push({ text: inside, match: true });
    if (after) pieces.push({ text: after, match: false });
  }
  return pieces;
}

function splitOnce(text: string, mark: string): [string, string] {
  const at = text.indexOf(mark);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + mark.length)];
}

export const messages = defineQuery(api.search.messages, {
  access: "user",
  args: z.strictObject({
    query: z.string().trim().min(1, "must have a word to find").max(1000, "must be at most 1000 characters"),
    worker: z.string().trim().min(1).optional(),
    machine: z.string().trim().min(1).optional(),
    since: durationArg.optional(),
    role: z.enum(["user", "assistant", "tool"]).optional(),
    limit: z.number().int().min(1, "must be at least 1").max(200, "must be at most 200").optional(),
    all: z.boolean().optional(),
  }),
  handler: (ctx, args) => {
    ctx.reads(TABLES.messages);
    ctx.reads(TABLES.chats);
    const match = toFtsQuery(args.query);
    const where = ["message_search MATCH ?"];
    const params: unknown[] = [match];
    if (!args.all || ctx.user.level !== "system_admin") {
      where.push("c.owner_id = ?");
      params.push(ctx.user.id);
    }
    if (args.worker) {
      // By id or name; a removed worker's chats keep its name.
      where.push("(c.worker_id = ? OR c.worker_name = ?)");
      params.push(args.worker, args.worker);
    }
    if (args.machine) {
      where.push("(mc.id = ? OR mc.name = ?)");
      params.push(args.machine, args.machine);
    }
    if (args.since !== undefined) {
      where.push("m.created_at >= ?");
      params.push(ctx.now - durationMs(args.since));
    }
    if (args.role) where.push(ROLE_FILTER[args.role]);
    const limit = args.limit ?? 20;
    let ranked: number[];
    try {
      // Ranked first, with only the joins the filters need (every match pays for them); the
      // names and snippet() after, for the rows shown only.
      const machineJoin = args.machine ? " LEFT JOIN workers w ON w.id = c.worker_id LEFT JOIN machines mc ON mc.id = w.machine_id" : "";
      ranked = ctx.db
        .prepare(
          `SELECT s.rowid FROM message_search s JOIN message_parts p ON p.rowid = s.rowid JOIN messages m ON m.id = p.message_id
             JOIN chats c ON c.id = m.chat_id${machineJoin}
           WHERE ${where.join(" AND ")} ORDER BY bm25(message_search), m.created_at DESC LIMIT ?`,
        )
        .pluck()
        .all(...params, limit) as number[];
    } catch (err) {
      if (err instanceof Error && /^fts5:|unterminated string|no such column/.test(err.message))
        throw new FleetError("invalid_argument", `query: cannot be searched for (${err.message.replace(/^fts5: /, "")}); quote words that look like syntax`, {
          field: "query",
        });
      throw err;
    }
    if (ranked.length === 0) return [];
    const details = new Map(
      (
        ctx.db
          .prepare(
            // FTS5's snippet() only for short parts: its time grows with the square of the matches (model/snippet.ts).
            `SELECT s.rowid, CASE WHEN length(t.body) <= ${FTS_SNIPPET_MAX_CHARS} THEN snippet(message_search, 0, '${OPEN}', '${CLOSE}', '…', 16) END AS snippet,
               CASE WHEN length(t.body) > ${FTS_SNIPPET_MAX_CHARS} THEN substr(t.body, 1, ${LONG_SNIPPET_READ_CHARS}) END AS long_text,
               c.id AS chat_id, c.title, m.id AS message_id,
               p.part_id, p.kind, m.role, c.worker_name, COALESCE(mc.name, '') AS machine_name, u.name AS owner_name, m.created_at
             FROM message_search s JOIN message_search_text t ON t.part_rowid = s.rowid JOIN message_parts p ON p.rowid = s.rowid
               JOIN messages m ON m.id = p.message_id JOIN chats c ON c.id = m.chat_id JOIN users u ON u.id = c.owner_id
               LEFT JOIN workers w ON w.id = c.worker_id LEFT JOIN machines mc ON mc.id = w.machine_id
             WHERE message_search MATCH ? AND s.rowid IN (SELECT value FROM json_each(?))`,
          )
          .all(match, JSON.stringify(ranked)) as Array<HitRow & { snippet: string | null; long_text: string | null }>
      ).map((row) => [row.rowid, row]),
    );
    const rows = ranked.map((rowid) => details.get(rowid)).filter((row) => row !== undefined);
    const words = wantedWords(args.query); // for the snippets of long parts
    return rows.map(
      (r): SearchHit => ({
        chatId: r.chat_id,
        chatTitle: r.title,
        messageId: r.message_id,
        partId: r.part_id,
        role: r.kind === "tool" ? "tool" : r.role,
        workerName: r.worker_name,
        machineName: r.machine_name,
        ownerName: r.owner_name,
        at: r.created_at,
        snippet: toPieces(r.snippet ?? longTextSnippet(r.long_text ?? "", words, OPEN, CLOSE)),
      }),
    );
  },
});
