// Scheduled prompts: a prompt sent into a chat at the times of a cron expression, each run recorded.
import type { ChatId, MessageId, ScheduleId, ScheduleRunId, UserId, WorkerId } from "../ids.js";
import { defineModule, mutation, query } from "./define.js";

/**
 * sent: the prompt went into the chat and the reply is running. completed / failed: how the
 * turn ended (failed also when it could not be sent, e.g. the chat was still busy). missed: the
 * daemon was not running (or the machine slept) at that time; missed runs are never fired late.
 */
/** skipped: due while the schedule's owner was disabled by an admin; the reason says so. */
export type ScheduleRunStatus = "sent" | "completed" | "failed" | "missed" | "skipped";

export interface ScheduleRunView {
  id: ScheduleRunId;
  scheduleId: ScheduleId;
  /** The time the cron expression named. */
  scheduledFor: number;
  status: ScheduleRunStatus;
  reason: string | null;
  chatId: ChatId | null;
  /** The prompt's message in the chat. */
  messageId: MessageId | null;
  /** When the run was recorded (fired, or found missed). */
  recordedAt: number;
  finishedAt: number | null;
}

export interface ScheduleView {
  id: ScheduleId;
  name: string;
  ownerId: UserId;
  ownerName: string;
  workerId: WorkerId;
  workerName: string;
  chatId: ChatId;
  chatTitle: string;
  /** 5 fields (minute hour day month weekday), or 6 with seconds first. */
  cron: string;
  /** IANA time zone the expression is read in. */
  timezone: string;
  prompt: string;
  paused: boolean;
  /** null while paused, or when the expression has no future time. */
  nextRunAt: number | null;
  lastRun: Pick<ScheduleRunView, "scheduledFor" | "status" | "reason"> | null;
  createdAt: number;
  updatedAt: number;
}

/** A schedule by id (sch_…) or name. */
type ScheduleRef = { schedule: string };

export const schedules = defineModule("schedules", {
  /** The caller's schedules; with `all`, an admin sees everyone's. Oldest first. */
  list: query<{ all?: boolean }, ScheduleView[]>(),
  get: query<ScheduleRef, ScheduleView>(),
  /**
   * Without `chat`, a new chat named after the schedule is created on the worker, so all runs
   * share one conversation. `timezone` defaults to the daemon's.
   */
  add: mutation<{ worker?: string; chat?: string; cron: string; prompt: string; timezone?: string; name?: string }, ScheduleView>(),
  remove: mutation<ScheduleRef, { removed: true; name: string }>(),
  pause: mutation<ScheduleRef, ScheduleView>(),
  /** Runs from now on; times that passed while paused are not recorded. */
  resume: mutation<ScheduleRef, ScheduleView>(),
  /** Newest first. */
  runs: query<ScheduleRef & { limit?: number }, ScheduleRunView[]>(),
});
