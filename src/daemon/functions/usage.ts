// usage: tokens and cost of finished replies, grouped by chat, worker, machine, model, user or day.
// Access is chat show's: your own chats; an admin's --all, everyone's.
import { z } from "zod";
import { api, type UsageGrouping, type UsageRow } from "../../protocol/api/index.js";
import { TABLES } from "../model/tables.js";
import { FINISHED_SINCE, SUM_FIGURES, toFigures, type FigureRow } from "../model/usage.js";
import { durationArg, durationMs } from "./args.js";
import { defineQuery } from "./define.js";

/**
 * Each grouping's key, label and the joins it needs (only those: at 100k replies every join is
 * 100k lookups). A machine goes through the chat's worker (removed workers: none).
 */
const GROUPS: Record<UsageGrouping, { key: string; label: string; joins: string }> = {
  chat: { key: "m.chat_id", label: "MAX(c.title)", joins: "JOIN chats c ON c.id = m.chat_id" },
  worker: { key: "c.worker_id", label: "MAX(c.worker_name)", joins: "JOIN chats c ON c.id = m.chat_id" },
  machine: {
    key: "COALESCE(w.machine_id, '')",
    label: "COALESCE(MAX(mc.name), '(worker removed)')",
    joins: "JOIN chats c ON c.id = m.chat_id LEFT JOIN workers w ON w.id = c.worker_id LEFT JOIN machines mc ON mc.id = w.machine_id",
  },
  model: { key: "COALESCE(m.model, '')", label: "COALESCE(MAX(m.model), '(default)')", joins: "" },
  user: { key: "c.owner_id", label: "MAX(u.name)", joins: "JOIN chats c ON c.id = m.chat_id JOIN users u ON u.id = c.owner_id" },
  day: { key: "date(m.completed_at / 1000 + ? * 60, 'unixepoch')", label: "date(MAX(m.completed_at) / 1000 + ? * 60, 'unixepoch')", joins: "" },
};

export const report = defineQuery(api.usage.report, {
  access: "user",
  args: z.strictObject({
    by: z.enum(["chat", "worker", "machine", "model", "user", "day"]).optional(),
    since: durationArg.optional(),
    all: z.boolean().optional(),
    utcOffsetMinutes: z
      .number()
      .int()
      .min(-24 * 60)
      .max(24 * 60)
      .optional(),
  }),
  handler: (ctx, args) => {
    ctx.reads(TABLES.messages);
    ctx.reads(TABLES.chats);
    const by = args.by ?? "day";
    const since = ctx.now - durationMs(args.since ?? "30d");
    const offset = args.utcOffsetMinutes ?? 0;
    const where = [FINISHED_SINCE];
    const params: unknown[] = [since];
    if (!args.all || ctx.user.level !== "system_admin") {
      // The caller's chats as a set SQLite builds once, not a join per reply.
      where.push("m.chat_id IN (SELECT id FROM chats WHERE owner_id = ?)");
      params.push(ctx.user.id);
    }
    const group = GROUPS[by];
    const from = (joins: string) => `FROM messages m INDEXED BY messages_usage ${joins} WHERE ${where.join(" AND ")}`;
    const groupParams = by === "day" ? [offset, offset] : [];
    const rows = ctx.db
      .prepare(
        `SELECT ${group.key} AS key, ${group.label} AS label, ${SUM_FIGURES} ${from(group.joins)} GROUP BY 1
         ORDER BY ${by === "day" ? "key DESC" : "cost DESC, output DESC"}`,
      )
      .all(...groupParams, ...params) as Array<FigureRow & { key: string; label: string }>;
    // The total is the rows added up: one pass over the index, not two.
    const total = rows.reduce<FigureRow>(
      (sum, r) => ({
        replies: sum.replies + r.replies,
        input: sum.input + r.input,
        output: sum.output + r.output,
        reasoning: sum.reasoning + r.reasoning,
        cache_read: sum.cache_read + r.cache_read,
        cache_write: sum.cache_write + r.cache_write,
        cost: sum.cost + r.cost,
      }),
      { replies: 0, input: 0, output: 0, reasoning: 0, cache_read: 0, cache_write: 0, cost: 0 },
    );
    return {
      by,
      since,
      rows: rows.map((r): UsageRow => ({ key: r.key, label: r.label, ...toFigures(r) })),
      total: toFigures(total),
    };
  },
});
