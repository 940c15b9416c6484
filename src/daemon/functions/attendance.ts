// attendance: who is present, absent or remote under a key. Everyone signed in marks themselves;
// removing someone else's entry is for admins.
import { z } from "zod";
import { api, type AttendanceEntryView, type AttendanceStatus, type AttendanceSummary, type AttendanceView } from "../../protocol/api/index.js";
import { ATTENDANCE_STATUSES } from "../../protocol/api/attendance.js";
import { FleetError } from "../../protocol/errors.js";
import type { UserId } from "../../protocol/ids.js";
import { resolveUserRef } from "../accounts/users.js";
import { keyArg, userRefArg } from "./args.js";
import { defineMutation, defineQuery, type MutationCtx, type QueryCtx } from "./define.js";
import { TABLES } from "../model/tables.js";

/** Live-query table: keyed by the attendance key. */
const statusArg = z.enum(ATTENDANCE_STATUSES, { error: "must be present, absent or remote" });
const reasonArg = z.string().trim().max(500, "must be at most 500 characters");

interface SheetRow {
  id: number;
  key: string;
  created_at: number;
  updated_at: number;
}

interface EntryRow {
  user_id: UserId;
  user_name: string;
  status: AttendanceStatus;
  reason: string | null;
  created_at: number;
  updated_at: number;
}

function loadSheet(ctx: QueryCtx, key: string): SheetRow | undefined {
  ctx.reads(TABLES.attendance, key);
  return ctx.db.prepare("SELECT * FROM attendance_sheets WHERE key = ?").get(key) as SheetRow | undefined;
}

const SELECT_ENTRY = `SELECT e.user_id, u.name AS user_name, e.status, e.reason, e.created_at, e.updated_at
  FROM attendance_entries e JOIN users u ON u.id = e.user_id`;

function toEntryView(row: EntryRow): AttendanceEntryView {
  return { userId: row.user_id, userName: row.user_name, status: row.status, reason: row.reason, createdAt: row.created_at, updatedAt: row.updated_at };
}

function countByStatus(statuses: Iterable<AttendanceStatus>): Record<AttendanceStatus, number> {
  const counts = Object.fromEntries(ATTENDANCE_STATUSES.map((s) => [s, 0])) as Record<AttendanceStatus, number>;
  for (const status of statuses) counts[status]++;
  return counts;
}

function toView(ctx: QueryCtx, sheet: SheetRow): AttendanceView {
  // In marking order; rowid breaks ties between marks in the same millisecond.
  const entries = (ctx.db.prepare(`${SELECT_ENTRY} WHERE e.sheet_id = ? ORDER BY e.created_at, e.rowid`).all(sheet.id) as EntryRow[]).map(toEntryView);
  return {
    key: sheet.key,
    entries,
    counts: countByStatus(entries.map((e) => e.status)),
    createdAt: sheet.created_at,
    updatedAt: sheet.updated_at,
  };
}

function touch(ctx: MutationCtx, sheet: SheetRow): void {
  ctx.db.prepare("UPDATE attendance_sheets SET updated_at = ? WHERE id = ?").run(ctx.now, sheet.id);
  ctx.writes(TABLES.attendance, sheet.key);
}

export const list = defineQuery(api.attendance.list, {
  access: "user",
  args: z.strictObject({}),
  handler: (ctx): AttendanceSummary[] => {
    ctx.reads(TABLES.attendance);
    const sheets = ctx.db.prepare("SELECT * FROM attendance_sheets ORDER BY updated_at DESC").all() as SheetRow[];
    const statuses = ctx.db.prepare("SELECT status FROM attendance_entries WHERE sheet_id = ?");
    return sheets.map((sheet) => ({
      key: sheet.key,
      counts: countByStatus((statuses.all(sheet.id) as { status: AttendanceStatus }[]).map((r) => r.status)),
      updatedAt: sheet.updated_at,
    }));
  },
});

export const get = defineQuery(api.attendance.get, {
  access: "user",
  args: z.strictObject({ key: keyArg }),
  handler: (ctx, { key }) => {
    const sheet = loadSheet(ctx, key);
    return sheet ? toView(ctx, sheet) : null;
  },
});

export const mark = defineMutation(api.attendance.mark, {
  access: "user",
  args: z.strictObject({ key: keyArg, status: statusArg.optional(), reason: reasonArg.optional() }),
  handler: (ctx, { key, status, reason }) => {
    let sheet = loadSheet(ctx, key);
    if (!sheet) {
      ctx.db.prepare("INSERT INTO attendance_sheets (key, created_at, updated_at) VALUES (?, ?, ?)").run(key, ctx.now, ctx.now);
      sheet = loadSheet(ctx, key)!;
    }
    // An empty reason clears it; marking again without one keeps no stale reason either.
    ctx.db
      .prepare(
        `INSERT INTO attendance_entries (sheet_id, user_id, status, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (sheet_id, user_id) DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at`,
      )
      .run(sheet.id, ctx.user.id, status ?? "present", reason || null, ctx.now, ctx.now);
    touch(ctx, sheet);
    return toEntryView(ctx.db.prepare(`${SELECT_ENTRY} WHERE e.sheet_id = ? AND e.user_id = ?`).get(sheet.id, ctx.user.id) as EntryRow);
  },
});

export const remove = defineMutation(api.attendance.remove, {
  access: "user",
  args: z.strictObject({ key: keyArg, user: userRefArg.optional() }),
  handler: (ctx, { key, user }) => {
    const target = user === undefined ? { id: ctx.user.id, name: ctx.user.name } : resolveUserRef(ctx.db, user);
    if (target.id !== ctx.user.id && ctx.user.level !== "system_admin") {
      throw new FleetError(
        "permission_denied",
        `only admins can remove someone else's attendance; you can remove your own with: ocfleet attendance remove ${key}`,
      );
    }
    const sheet = loadSheet(ctx, key);
    if (!sheet) throw new FleetError("not_found", `no attendance under '${key}' (see: ocfleet attendance list)`, { key });
    const { changes } = ctx.db.prepare("DELETE FROM attendance_entries WHERE sheet_id = ? AND user_id = ?").run(sheet.id, target.id);
    if (changes === 0) {
      const whose = target.id === ctx.user.id ? "you have" : `${target.name} has`;
      throw new FleetError("not_found", `${whose} no attendance entry under '${key}'`, { key });
    }
    touch(ctx, sheet);
    return { removed: true as const, userName: target.name };
  },
});
