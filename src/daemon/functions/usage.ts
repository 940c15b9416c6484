// usage: tokens and cost of finished replies, grouped by chat, worker, machine, model, user or day.
// Access is chat show's: your own chats; an admin's --all, everyone's.
import { z } from "zod";
import { api, type UsageGrouping, type UsageRow } from "../../protocol/api/index.js";
import { TABLES } from "../model/tables.js";
import { FINISHED_SINCE, SUM_FIGURES, toFigures, type FigureRow } from "../model/usage.js";
import { durationArg, durationMs } from "./args.js";
import { defineQuery } from "./define.js";

/** Each grouping's key and label. A machine goes through the chat's worker (removed workers: none). */
const GROUPS: Record<UsageGrouping, { key: string; label: string }> = {
  chat: { key: "c.id", label: "MAX(c.title)" },
  worker: { key: "c.worker_id", label: "MAX(c.worker_name)" },
  machine: { key: "COALESCE(w.machine_id, '')", label: "COALESCE(MAX(mc.name), '(worker removed)')" },
  model: { key: "COALESCE(m.model, '')", label: "COALESCE(MAX(m.model), '(default)')" },
  user: { key: "c.owner_id", label: "MAX(u.name)" },
  day: { key: "date(m.completed_at / 1000 + ? * 60, 'unixepoch')", label: "date(MAX(m.completed_at) / 1000 + ? * 60, 'unixepoch')" },
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
      where.push("c.owner_id = ?");
      params.push(ctx.user.id);
    }
    const from = `FROM messages m INDEXED BY messages_usage JOIN chats c ON c.id = m.chat_id
      LEFT JOIN workers w ON w.id = c.worker_id LEFT JOIN machines mc ON mc.id = w.machine_id JOIN users u ON u.id = c.owner_id
      WHERE ${where.join(" AND ")}`;
    const group = GROUPS[by];
    const groupParams = by === "day" ? [offset, offset] : [];
    const rows = ctx.db
      .prepare(
        `SELECT ${group.key} AS key, ${group.label} AS label, ${SUM_FIGURES} ${from} GROUP BY 1
         ORDER BY ${by === "day" ? "key DESC" : "cost DESC, output DESC"}`,
      )
      .all(...groupParams, ...params) as Array<FigureRow & { key: string; label: string }>;
    const total = ctx.db.prepare(`SELECT ${SUM_FIGURES} ${from}`).get(...params) as FigureRow;
    return {
      by,
      since,
      rows: rows.map((r): UsageRow => ({ key: r.key, label: r.label, ...toFigures(r) })),
      total: toFigures(total),
    };
  },
});
