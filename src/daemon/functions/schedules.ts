// schedules: prompts sent into a chat at the times of a cron expression. A schedule is its
// owner's (admins see all); others' schedules look like missing ones, as their chats do. The
// runner that fires them lives in daemon/jobs/scheduler.ts.
import { z } from "zod";
import { api, type ScheduleRunView, type ScheduleView } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { ChatId, ScheduleId } from "../../protocol/ids.js";
import { newId } from "../crypto.js";
import { CronTimes, cronProblem, localTimeZone } from "../jobs/cron.js";
import { accessibleChat, insertChat } from "../model/chats.js";
import { defineMutation, defineQuery, type CallerUser, type MutationCtx, type QueryCtx } from "./define.js";
import { findWorkerFor, requireWorkerRight, usableWorkerOfChat } from "../model/workerAccess.js";
import { TABLES } from "../model/tables.js";

export interface ScheduleRow {
  id: ScheduleId;
  name: string;
  owner_id: string;
  owner_name: string;
  worker_id: string;
  worker_name: string;
  chat_id: ChatId;
  chat_title: string;
  cron: string;
  timezone: string;
  prompt: string;
  paused_at: number | null;
  next_run_at: number | null;
  created_at: number;
  updated_at: number;
}

const SELECT_SCHEDULE = `SELECT s.*, u.name AS owner_name, w.name AS worker_name, c.title AS chat_title
  FROM schedules s JOIN users u ON u.id = s.owner_id JOIN workers w ON w.id = s.worker_id JOIN chats c ON c.id = s.chat_id`;

interface RunRow {
  id: ScheduleRunView["id"];
  schedule_id: ScheduleId;
  scheduled_for: number;
  status: ScheduleRunView["status"];
  reason: string | null;
  chat_id: ChatId | null;
  message_id: ScheduleRunView["messageId"];
  recorded_at: number;
  finished_at: number | null;
}

function toRunView(row: RunRow): ScheduleRunView {
  return {
    id: row.id,
    scheduleId: row.schedule_id,
    scheduledFor: row.scheduled_for,
    status: row.status,
    reason: row.reason,
    chatId: row.chat_id,
    messageId: row.message_id,
    recordedAt: row.recorded_at,
    finishedAt: row.finished_at,
  };
}

function toView(ctx: QueryCtx, row: ScheduleRow): ScheduleView {
  ctx.reads(TABLES.scheduleRuns, row.id);
  ctx.reads(TABLES.chats, row.chat_id); // its title shows

  const last = ctx.db
    .prepare("SELECT scheduled_for, status, reason FROM schedule_runs WHERE schedule_id = ? ORDER BY scheduled_for DESC LIMIT 1")
    .get(row.id) as Pick<RunRow, "scheduled_for" | "status" | "reason"> | undefined;
  return {
    id: row.id,
    name: row.name,
    ownerId: row.owner_id as ScheduleView["ownerId"],
    ownerName: row.owner_name,
    workerId: row.worker_id as ScheduleView["workerId"],
    workerName: row.worker_name,
    chatId: row.chat_id,
    chatTitle: row.chat_title,
    cron: row.cron,
    timezone: row.timezone,
    prompt: row.prompt,
    paused: row.paused_at !== null,
    nextRunAt: row.next_run_at,
    lastRun: last ? { scheduledFor: last.scheduled_for, status: last.status, reason: last.reason } : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function canManage(user: CallerUser, row: Pick<ScheduleRow, "owner_id">): boolean {
  return user.level === "system_admin" || user.id === row.owner_id;
}

function loadSchedule(ctx: QueryCtx, id: string): ScheduleRow | undefined {
  ctx.reads(TABLES.schedules, id);
  return ctx.db.prepare(`${SELECT_SCHEDULE} WHERE s.id = ?`).get(id) as ScheduleRow | undefined;
}

/** A schedule by id or name that the user may see; others' look like missing ones. */
function findSchedule(ctx: QueryCtx<"user">, ref: string): ScheduleRow {
  const byName = ctx.db.prepare("SELECT id FROM schedules WHERE id = ? OR name = ?").get(ref, ref) as { id: string } | undefined;
  const row = byName ? loadSchedule(ctx, byName.id) : undefined;
  if (!row || !canManage(ctx.user, row)) {
    ctx.reads(TABLES.schedules); // it may be created later
    throw new FleetError("not_found", `no schedule '${ref}' (see: ocfleet schedule list)`, { schedule: ref });
  }
  return row;
}

/** Tells the runner that due times changed, once the transaction has committed. */
function wakeRunner(ctx: MutationCtx): void {
  setImmediate(() => ctx.services.jobs.wakeScheduler());
}

/** A name from the prompt's first words ("summarize-open-prs"), made unique with -2, -3… */
function nameFromPrompt(ctx: QueryCtx, prompt: string): string {
  const base =
    prompt
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, " ")
      .trim()
      .split(" ")
      .slice(0, 4)
      .join("-")
      .slice(0, 40)
      .replace(/-+$/, "") || "schedule";
  const taken = ctx.db.prepare("SELECT 1 FROM schedules WHERE name = ?");
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!taken.get(name)) return name;
  }
}

const scheduleRef = { schedule: z.string().trim().min(1, "must name a schedule (its name or sch_… id)") };

const nameArg = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\x00-\x1f\x7f]+$/, "must not contain control characters")
  .refine((name) => !/^sch_/.test(name), "must not start with sch_ (that is how ids look)");

const addArgs = z
  .strictObject({
    worker: z.string().trim().min(1, "must name a worker (id or name)").optional(),
    chat: z.string().trim().min(1, "must name a chat (cht_…)").optional(),
    cron: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
    prompt: z
      .string()
      .refine((text) => text.trim().length > 0, "must not be empty")
      .pipe(z.string().max(200_000, "must be at most 200000 characters")),
    timezone: z.string().trim().min(1, "must not be empty").max(100).optional(),
    name: nameArg.optional(),
  })
  .superRefine((args, issues) => {
    if (args.worker === undefined && args.chat === undefined)
      issues.addIssue({ code: "custom", path: ["worker"], message: "give a worker, or a chat to send into" });
    // croner's own message, naming the field it is about.
    const problem = cronProblem(args.cron, args.timezone ?? localTimeZone());
    if (problem) issues.addIssue({ code: "custom", path: [problem.field], message: problem.message });
  });

export const add = defineMutation(api.schedules.add, {
  access: "user",
  args: addArgs,
  handler: (ctx, args) => {
    const timezone = args.timezone ?? localTimeZone();
    const name = args.name ?? nameFromPrompt(ctx, args.prompt);
    if (ctx.db.prepare("SELECT 1 FROM schedules WHERE name = ?").get(name)) {
      throw new FleetError("already_exists", `a schedule named '${name}' exists; choose another --name`, { field: "name" });
    }
    let workerId: string;
    let chatId: ChatId;
    if (args.chat !== undefined) {
      const chat = accessibleChat(ctx, args.chat);
      usableWorkerOfChat(ctx, ctx.user, chat);
      if (args.worker !== undefined && findWorkerFor(ctx, ctx.user, args.worker).row.id !== chat.worker_id) {
        throw new FleetError(
          "invalid_argument",
          `chat ${chat.id} runs on worker '${chat.worker_name}', not '${args.worker}'; leave out --worker or name that one`,
          { field: "worker" },
        );
      }
      if (chat.archived_at !== null)
        throw new FleetError("failed_precondition", `chat '${chat.title}' is archived; unarchive it, or leave out --chat for a new one`);
      workerId = chat.worker_id;
      chatId = chat.id;
    } else {
      const { row, rights } = findWorkerFor(ctx, ctx.user, args.worker!);
      requireWorkerRight(rights, row, "use", "schedule prompts on");
      workerId = row.id;
      // Its own chat, named after it, so all its runs share one conversation.
      chatId = insertChat(ctx, { worker: row, ownerId: ctx.user.id, title: name });
    }
    const id = newId("schedule");
    const nextRunAt = new CronTimes(args.cron, timezone).nextAfter(ctx.now);
    ctx.db
      .prepare(
        `INSERT INTO schedules (id, name, owner_id, worker_id, chat_id, cron, timezone, prompt, next_run_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, name, ctx.user.id, workerId, chatId, args.cron, timezone, args.prompt, nextRunAt, ctx.now, ctx.now);
    ctx.writes(TABLES.schedules, id);
    wakeRunner(ctx);
    return toView(ctx, loadSchedule(ctx, id)!);
  },
});

export const list = defineQuery(api.schedules.list, {
  access: "user",
  args: z.strictObject({ all: z.boolean().optional() }),
  handler: (ctx, { all }) => {
    ctx.reads(TABLES.schedules);
    ctx.reads(TABLES.scheduleRuns);
    const everyone = all === true && ctx.user.level === "system_admin";
    const rows = everyone
      ? (ctx.db.prepare(`${SELECT_SCHEDULE} ORDER BY s.created_at`).all() as ScheduleRow[])
      : (ctx.db.prepare(`${SELECT_SCHEDULE} WHERE s.owner_id = ? ORDER BY s.created_at`).all(ctx.user.id) as ScheduleRow[]);
    return rows.map((row) => toView(ctx, row));
  },
});

export const get = defineQuery(api.schedules.get, {
  access: "user",
  args: z.strictObject(scheduleRef),
  handler: (ctx, { schedule }) => toView(ctx, findSchedule(ctx, schedule)),
});

export const remove = defineMutation(api.schedules.remove, {
  access: "user",
  args: z.strictObject(scheduleRef),
  handler: (ctx, { schedule }) => {
    const row = findSchedule(ctx, schedule);
    ctx.db.prepare("DELETE FROM schedules WHERE id = ?").run(row.id);
    ctx.writes(TABLES.schedules, row.id);
    ctx.writes(TABLES.scheduleRuns, row.id);
    wakeRunner(ctx);
    return { removed: true as const, name: row.name };
  },
});

export const pause = defineMutation(api.schedules.pause, {
  access: "user",
  args: z.strictObject(scheduleRef),
  handler: (ctx, { schedule }) => {
    const row = findSchedule(ctx, schedule);
    if (row.paused_at !== null)
      throw new FleetError("failed_precondition", `schedule '${row.name}' is already paused; resume it with: ocfleet schedule resume ${row.name}`);
    ctx.db.prepare("UPDATE schedules SET paused_at = ?, next_run_at = NULL, updated_at = ? WHERE id = ?").run(ctx.now, ctx.now, row.id);
    ctx.writes(TABLES.schedules, row.id);
    wakeRunner(ctx);
    return toView(ctx, loadSchedule(ctx, row.id)!);
  },
});

export const resume = defineMutation(api.schedules.resume, {
  access: "user",
  args: z.strictObject(scheduleRef),
  handler: (ctx, { schedule }) => {
    const row = findSchedule(ctx, schedule);
    if (row.paused_at === null) throw new FleetError("failed_precondition", `schedule '${row.name}' is not paused`);
    // Times that passed while paused were skipped on purpose: they are not missed runs.
    const nextRunAt = new CronTimes(row.cron, row.timezone).nextAfter(ctx.now);
    ctx.db.prepare("UPDATE schedules SET paused_at = NULL, next_run_at = ?, updated_at = ? WHERE id = ?").run(nextRunAt, ctx.now, row.id);
    ctx.writes(TABLES.schedules, row.id);
    wakeRunner(ctx);
    return toView(ctx, loadSchedule(ctx, row.id)!);
  },
});

export const runs = defineQuery(api.schedules.runs, {
  access: "user",
  args: z.strictObject({ ...scheduleRef, limit: z.number().int().min(1).max(1000).optional() }),
  handler: (ctx, { schedule, limit }) => {
    const row = findSchedule(ctx, schedule);
    ctx.reads(TABLES.scheduleRuns, row.id);
    const rows = ctx.db.prepare("SELECT * FROM schedule_runs WHERE schedule_id = ? ORDER BY scheduled_for DESC LIMIT ?").all(row.id, limit ?? 50) as RunRow[];
    return rows.map(toRunView);
  },
});
