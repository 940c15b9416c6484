// Cleanup jobs: periodic deletes of what has expired or is no longer needed. Each run is recorded
// in job_runs (when, how many rows, or why it failed) for `ocfleet admin jobs`. Deletes go in
// batches, each its own short transaction, so a large backlog never holds up other calls.

import type { JobRunView, JobStatusView } from "../../protocol/api/admin.js";
import type { Db } from "../db/open.js";
import { userSessionsKey } from "../accounts/sessions.js";
import { internalMutation, type WriteCtx } from "../model/context.js";
import { TABLES } from "../model/tables.js";

/** Live-query table for job runs (one partition). */

export interface CleanupSettings {
  /** How often every job runs. */
  everyMs: number;
  /** Sessions are kept this long after they expired or were revoked, so a client still hears why. */
  sessionGraceMs: number;
  /** Stream chunks of finished messages are kept this long (the final parts hold the text). */
  streamChunkRetentionMs: number;
  /** Runs kept per schedule, newest first. */
  scheduleRunsKept: number;
}

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;

export const DEFAULT_CLEANUP: CleanupSettings = { everyMs: HOUR, sessionGraceMs: 7 * DAY, streamChunkRetentionMs: DAY, scheduleRunsKept: 500 };

/** Rows one batch deletes at most. */
export const BATCH = 2000;
/** Job runs kept per job. */
const RUNS_KEPT = 50;

interface CleanupJob {
  name: string;
  description: string;
  /** Deletes up to `limit` rows; returns how many it deleted. */
  deleteBatch(ctx: WriteCtx, now: number, settings: CleanupSettings, limit: number): number;
}

function deleteRowids(db: Db, table: string, rowids: number[]): number {
  const del = db.prepare(`DELETE FROM ${table} WHERE rowid = ?`);
  let n = 0;
  for (const rowid of rowids) n += del.run(rowid).changes;
  return n;
}

export const CLEANUP_JOBS: readonly CleanupJob[] = [
  {
    name: "login-requests",
    description: "Google sign-ins that expired (used or not)",
    deleteBatch: (ctx, now, _settings, limit) => {
      const rows = ctx.db.prepare("SELECT rowid FROM login_requests WHERE expires_at <= ? LIMIT ?").all(now, limit) as { rowid: number }[];
      return deleteRowids(
        ctx.db,
        "login_requests",
        rows.map((r) => r.rowid),
      );
    },
  },
  {
    name: "login-codes",
    description: "login and service-desk codes that expired or were used",
    deleteBatch: (ctx, now, _settings, limit) => {
      // A used code is refused like an unknown one, so deleting it changes nothing a user sees.
      const expired = ctx.db.prepare("SELECT rowid FROM login_codes WHERE expires_at <= ? LIMIT ?").all(now, limit) as { rowid: number }[];
      const used = ctx.db.prepare("SELECT rowid FROM login_codes WHERE used_at IS NOT NULL LIMIT ?").all(limit) as { rowid: number }[];
      const rowids = [...new Set([...expired, ...used].map((r) => r.rowid))].slice(0, limit);
      return deleteRowids(ctx.db, "login_codes", rowids);
    },
  },
  {
    name: "machine-invites",
    description: "invites to join the hub that expired (used or not)",
    deleteBatch: (ctx, now, _settings, limit) => {
      // A used invite is refused anyway; until it expires it is kept so the refusal can say "used already".
      const rows = ctx.db.prepare("SELECT rowid FROM machine_invites WHERE expires_at <= ? LIMIT ?").all(now, limit) as { rowid: number }[];
      const n = deleteRowids(
        ctx.db,
        "machine_invites",
        rows.map((r) => r.rowid),
      );
      if (n > 0) ctx.writes(TABLES.invites);
      return n;
    },
  },
  {
    name: "sessions",
    description: "sessions that expired or were revoked longer ago than the grace period",
    deleteBatch: (ctx, now, settings, limit) => {
      const before = now - settings.sessionGraceMs;
      const expired = ctx.db.prepare("SELECT id, user_id FROM sessions WHERE expires_at <= ? LIMIT ?").all(before, limit) as { id: string; user_id: string }[];
      const revoked = ctx.db.prepare("SELECT id, user_id FROM sessions WHERE revoked_at <= ? LIMIT ?").all(before, limit) as { id: string; user_id: string }[];
      const rows = [...new Map([...expired, ...revoked].map((r) => [r.id, r])).values()].slice(0, limit);
      const del = ctx.db.prepare("DELETE FROM sessions WHERE id = ?");
      for (const row of rows) {
        del.run(row.id);
        // Connections still bound to it now hear "unknown" instead of "expired"/"revoked".
        ctx.writes(TABLES.sessions, row.id);
        ctx.writes(TABLES.sessions, userSessionsKey(row.user_id));
      }
      return rows.length;
    },
  },
  {
    name: "stream-chunks",
    description: "text chunks of replies that have finished, past the retention time",
    deleteBatch: (ctx, now, settings, limit) => {
      // Chunks only matter to rebuild a reply the daemon died in the middle of.
      const rows = ctx.db
        .prepare(
          `SELECT id FROM stream_chunks WHERE created_at <= ?
             AND message_id NOT IN (SELECT id FROM messages WHERE status = 'streaming') LIMIT ?`,
        )
        .all(now - settings.streamChunkRetentionMs, limit) as { id: number }[];
      const del = ctx.db.prepare("DELETE FROM stream_chunks WHERE id = ?");
      for (const row of rows) del.run(row.id);
      return rows.length;
    },
  },
  {
    name: "schedule-runs",
    description: "runs of each schedule beyond its newest ones",
    deleteBatch: (ctx, _now, settings, limit) => {
      const crowded = ctx.db.prepare("SELECT schedule_id FROM schedule_runs GROUP BY schedule_id HAVING COUNT(*) > ?").all(settings.scheduleRunsKept) as {
        schedule_id: string;
      }[];
      const firstToGo = ctx.db.prepare("SELECT scheduled_for FROM schedule_runs WHERE schedule_id = ? ORDER BY scheduled_for DESC LIMIT 1 OFFSET ?");
      const older = ctx.db.prepare("SELECT id FROM schedule_runs WHERE schedule_id = ? AND scheduled_for <= ? LIMIT ?");
      const del = ctx.db.prepare("DELETE FROM schedule_runs WHERE id = ?");
      let removed = 0;
      for (const { schedule_id: scheduleId } of crowded) {
        if (removed >= limit) break;
        const cutoff = firstToGo.get(scheduleId, settings.scheduleRunsKept) as { scheduled_for: number } | undefined;
        if (!cutoff) continue;
        for (const { id } of older.all(scheduleId, cutoff.scheduled_for, limit - removed) as { id: string }[]) removed += del.run(id).changes;
        ctx.writes(TABLES.scheduleRuns, scheduleId);
      }
      return removed;
    },
  },
];

export const deleteBatch = internalMutation((ctx, args: { job: string; now: number; settings: CleanupSettings; limit: number }) => {
  const job = CLEANUP_JOBS.find((j) => j.name === args.job);
  if (!job) throw new Error(`no cleanup job ${args.job}`);
  return job.deleteBatch(ctx, args.now, args.settings, args.limit);
});

export const recordJobRun = internalMutation((ctx, args: { job: string; startedAt: number; finishedAt: number; removed: number; error: string | null }) => {
  ctx.db
    .prepare("INSERT INTO job_runs (job, started_at, finished_at, removed, error) VALUES (?, ?, ?, ?, ?)")
    .run(args.job, args.startedAt, args.finishedAt, args.removed, args.error);
  const keep = ctx.db.prepare("SELECT started_at FROM job_runs WHERE job = ? ORDER BY started_at DESC LIMIT 1 OFFSET ?").get(args.job, RUNS_KEPT - 1) as
    | { started_at: number }
    | undefined;
  if (keep) ctx.db.prepare("DELETE FROM job_runs WHERE job = ? AND started_at < ?").run(args.job, keep.started_at);
  ctx.writes(TABLES.jobRuns);
});

/** Every job with its last run, for admin.jobs. */
export function jobStatuses(db: Db, settings: CleanupSettings): JobStatusView[] {
  const last = db.prepare("SELECT started_at, finished_at, removed, error FROM job_runs WHERE job = ? ORDER BY started_at DESC, id DESC LIMIT 1");
  const total = db.prepare("SELECT COALESCE(SUM(removed), 0) AS n FROM job_runs WHERE job = ?");
  return CLEANUP_JOBS.map((job) => {
    const row = last.get(job.name) as { started_at: number; finished_at: number; removed: number; error: string | null } | undefined;
    const lastRun: JobRunView | null = row ? { startedAt: row.started_at, finishedAt: row.finished_at, removed: row.removed, error: row.error } : null;
    return { job: job.name, description: job.description, everyMs: settings.everyMs, lastRun, removedRecently: (total.get(job.name) as { n: number }).n };
  });
}
