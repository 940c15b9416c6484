// The runner's reads and writes of schedules and their runs: internal queries and mutations,
// never reachable from a client. Each write reaches live queries like any other.
import type { ChatId, MessageId, ScheduleId, ScheduleRunId } from "../../protocol/ids.js";
import type { ScheduleRunStatus } from "../../protocol/api/index.js";
import { newId } from "../crypto.js";
import { internalMutation, internalQuery, type CallerUser, type WriteCtx } from "../model/context.js";
import { TABLES } from "../model/tables.js";

export interface DueSchedule {
  id: ScheduleId;
  cron: string;
  timezone: string;
  next_run_at: number;
}

export const dueSchedules = internalQuery((ctx, args: { now: number }) => {
  return ctx.db
    .prepare("SELECT id, cron, timezone, next_run_at FROM schedules WHERE next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at")
    .all(args.now) as DueSchedule[];
});

export const nextDueAt = internalQuery((ctx, _args: Record<string, never>) => {
  const row = ctx.db.prepare("SELECT next_run_at FROM schedules WHERE next_run_at IS NOT NULL ORDER BY next_run_at LIMIT 1").get() as
    | { next_run_at: number }
    | undefined;
  return row?.next_run_at ?? null;
});

export interface ClaimedRun {
  runId: ScheduleRunId;
  scheduleId: ScheduleId;
  chatId: ChatId;
  prompt: string;
  /** The schedule's owner: the prompt is sent as them. */
  owner: CallerUser;
}

function changed(ctx: WriteCtx, scheduleId: string): void {
  ctx.writes(TABLES.schedules, scheduleId);
  ctx.writes(TABLES.scheduleRuns, scheduleId);
}

/**
 * Moves a schedule on to its next time and records the runs of this tick: the missed ones, and
 * the one to fire as `sent`. Does nothing (null) if the schedule's next time is no longer the one
 * the tick saw: it was paused, resumed, removed or claimed meanwhile.
 */
export const claimRuns = internalMutation(
  (
    ctx,
    args: {
      scheduleId: ScheduleId;
      expectedNextRunAt: number;
      nextRunAt: number | null;
      fire: number | null;
      missed: Array<{ scheduledFor: number; reason: string }>;
      recordedAt: number;
    },
  ): { missed: number; run: ClaimedRun | null } | null => {
    const { changes } = ctx.db
      .prepare("UPDATE schedules SET next_run_at = ?, updated_at = ? WHERE id = ? AND next_run_at = ?")
      .run(args.nextRunAt, args.recordedAt, args.scheduleId, args.expectedNextRunAt);
    if (changes === 0) return null;
    const schedule = ctx.db
      .prepare(
        `SELECT s.chat_id, s.prompt, u.id AS owner_id, u.name AS owner_name, u.level AS owner_level, u.disabled_at AS owner_disabled_at
         FROM schedules s JOIN users u ON u.id = s.owner_id WHERE s.id = ?`,
      )
      .get(args.scheduleId) as {
      chat_id: ChatId;
      prompt: string;
      owner_id: CallerUser["id"];
      owner_name: string;
      owner_level: CallerUser["level"];
      owner_disabled_at: number | null;
    };
    const insert = ctx.db.prepare(
      `INSERT INTO schedule_runs (id, schedule_id, scheduled_for, status, reason, chat_id, recorded_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (schedule_id, scheduled_for) DO NOTHING`,
    );
    let missed = 0;
    for (const run of args.missed)
      missed += insert.run(
        newId("scheduleRun"),
        args.scheduleId,
        run.scheduledFor,
        "missed",
        run.reason,
        schedule.chat_id,
        args.recordedAt,
        args.recordedAt,
      ).changes;
    let run: ClaimedRun | null = null;
    if (args.fire !== null && schedule.owner_disabled_at !== null) {
      // A disabled user's prompts are not sent: the run is on record, saying why.
      const reason = `skipped: ${schedule.owner_name}'s account is disabled by an admin`;
      insert.run(newId("scheduleRun"), args.scheduleId, args.fire, "skipped", reason, schedule.chat_id, args.recordedAt, args.recordedAt);
    } else if (args.fire !== null) {
      const runId = newId("scheduleRun");
      if (insert.run(runId, args.scheduleId, args.fire, "sent", null, schedule.chat_id, args.recordedAt, null).changes > 0) {
        run = {
          runId,
          scheduleId: args.scheduleId,
          chatId: schedule.chat_id,
          prompt: schedule.prompt,
          owner: { id: schedule.owner_id, name: schedule.owner_name, level: schedule.owner_level },
        };
      }
    }
    changed(ctx, args.scheduleId);
    return { missed, run };
  },
);

/** The run's prompt was recorded in the chat as this message. */
export const attachMessage = internalMutation((ctx, args: { runId: ScheduleRunId; messageId: MessageId }) => {
  const row = ctx.db.prepare("SELECT schedule_id FROM schedule_runs WHERE id = ?").get(args.runId) as { schedule_id: string } | undefined;
  if (!row) return;
  ctx.db.prepare("UPDATE schedule_runs SET message_id = ? WHERE id = ?").run(args.messageId, args.runId);
  changed(ctx, row.schedule_id);
});

function finish(ctx: WriteCtx, where: string, key: string, status: ScheduleRunStatus, reason: string | null, at: number): boolean {
  const row = ctx.db.prepare(`SELECT id, schedule_id FROM schedule_runs WHERE ${where} AND status = 'sent'`).get(key) as
    | { id: string; schedule_id: string }
    | undefined;
  if (!row) return false;
  ctx.db.prepare("UPDATE schedule_runs SET status = ?, reason = ?, finished_at = ? WHERE id = ?").run(status, reason, at, row.id);
  changed(ctx, row.schedule_id);
  return true;
}

/** A run that is still `sent` ends as given; one that has ended already stays as it is. */
export const finishRun = internalMutation((ctx, args: { runId: ScheduleRunId; status: ScheduleRunStatus; reason: string | null; at: number }) =>
  finish(ctx, "id = ?", args.runId, args.status, args.reason, args.at),
);

/** The turn that a run's message started has ended (called for every turn; most are not a run's). */
export const finishRunOfMessage = internalMutation((ctx, args: { messageId: MessageId; status: ScheduleRunStatus; reason: string | null; at: number }) =>
  finish(ctx, "message_id = ?", args.messageId, args.status, args.reason, args.at),
);

/** At start: runs still `sent` belonged to turns that the last stop interrupted. */
export const recoverRuns = internalMutation((ctx, args: { at: number }) => {
  const open = ctx.db.prepare("SELECT id, schedule_id FROM schedule_runs WHERE status = 'sent'").all() as { id: string; schedule_id: string }[];
  const update = ctx.db.prepare("UPDATE schedule_runs SET status = 'failed', reason = ?, finished_at = ? WHERE id = ?");
  for (const run of open) {
    update.run("the daemon stopped before the reply finished", args.at, run.id);
    changed(ctx, run.schedule_id);
  }
  return open.length;
});
