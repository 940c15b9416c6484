// The schedule runner: at each tick it fires the schedules that are due, sending their prompt into
// their chat through the same path as chat.send, and records every run. Times that passed while
// the daemon was down (or the machine slept) are recorded as missed, never fired late in a burst.
// The clock is injected, so tests drive it with tick() rather than sleeping.
import type { CallerUser, InternalRunner } from "../model/context.js";
import type { FinishedTurn } from "../chat/runtime.js";
import type { Logger } from "../log.js";
import type { MessageId } from "../../protocol/ids.js";
import { CronTimes } from "./cron.js";
import {
  attachMessage,
  claimRuns,
  dueSchedules,
  finishRun,
  finishRunOfMessage,
  nextDueAt,
  recoverRuns,
  type ClaimedRun,
  type DueSchedule,
} from "./schedule-runs.js";

/** A run found later than this after its time is missed rather than fired. */
export const LATE_LIMIT_MS = 60_000;
/** One gap records at most this many missed runs (the newest); the oldest of them says how many more there were. */
export const MAX_MISSED_ROWS = 10;
/** Counting the missed runs of a long gap stops here ("more than 1000"). */
const MISSED_COUNT_CAP = 1000;

export interface SchedulerDeps {
  now(): number;
  log: Logger;
  runQuery: InternalRunner["runQuery"];
  runMutation: InternalRunner["runMutation"];
  /** Sends a prompt into a chat as a user (chat/send.ts sendPrompt); `onRecorded` runs once the message is recorded. */
  send(args: { chat: string; user: CallerUser; text: string; onRecorded: (messageId: MessageId) => void }): Promise<unknown>;
}

export interface TickOutcome {
  fired: number;
  missed: number;
}

interface Plan {
  fire: number | null;
  missed: Array<{ scheduledFor: number; reason: string }>;
  nextRunAt: number | null;
}

const MISSED_REASON = "the daemon was not running at this time (or the machine was asleep); missed runs are not sent late";

/** What one due schedule should do now: which time to fire (the latest, if on time) and which were missed. */
export function planRuns(schedule: Pick<DueSchedule, "cron" | "timezone" | "next_run_at">, now: number): Plan {
  const times = new CronTimes(schedule.cron, schedule.timezone);
  const first = schedule.next_run_at;
  const latest = Math.max(first, times.latestAtOrBefore(now) ?? first);
  const fire = now - latest <= LATE_LIMIT_MS ? latest : null;
  const missedUntil = fire ?? now + 1;
  const newest = times.newestBetween(first, missedUntil, MAX_MISSED_ROWS);
  const missed = newest.map((scheduledFor) => ({ scheduledFor, reason: MISSED_REASON }));
  if (newest.length === MAX_MISSED_ROWS) {
    const total = times.countBetween(first, missedUntil, MISSED_COUNT_CAP);
    const earlier = total - MAX_MISSED_ROWS;
    if (earlier > 0 || total === MISSED_COUNT_CAP) {
      const count = total === MISSED_COUNT_CAP ? `more than ${MISSED_COUNT_CAP - MAX_MISSED_ROWS}` : String(earlier);
      const oldest = missed.at(-1)!;
      oldest.reason = `${MISSED_REASON}; ${count} earlier missed runs since ${new Date(first).toISOString()} are not listed one by one`;
    }
  }
  return { fire, missed, nextRunAt: times.nextAfter(now) };
}

export class ScheduleRunner {
  constructor(private readonly deps: SchedulerDeps) {}

  /**
   * Fires what is due now. Claims are synchronous (each in its own transaction, guarded by the
   * schedule's next time, so a time is never fired twice); the returned promise settles when
   * the sends of this tick have been handed to their workers.
   */
  async tick(): Promise<TickOutcome> {
    const now = this.deps.now();
    const outcome: TickOutcome = { fired: 0, missed: 0 };
    const sends: Promise<void>[] = [];
    for (const schedule of this.deps.runQuery(dueSchedules, { now })) {
      let plan: Plan;
      try {
        plan = planRuns(schedule, now);
      } catch (err) {
        this.deps.log.error("cannot plan a schedule's runs", { schedule: schedule.id, error: err });
        continue;
      }
      const claimed = this.deps.runMutation(claimRuns, { scheduleId: schedule.id, expectedNextRunAt: schedule.next_run_at, ...plan, recordedAt: now });
      if (!claimed) continue; // changed meanwhile (paused, removed, claimed by an overlapping tick)
      outcome.missed += claimed.missed;
      if (claimed.run) {
        outcome.fired++;
        sends.push(this.fire(claimed.run));
      }
    }
    if (outcome.missed > 0) this.deps.log.info("scheduled runs missed", { count: outcome.missed });
    await Promise.all(sends);
    return outcome;
  }

  /** The earliest time any schedule is due, or null. */
  nextDueAt(): number | null {
    return this.deps.runQuery(nextDueAt, {});
  }

  /** At start: runs left "sent" by a stop cannot learn their outcome any more. */
  recover(): number {
    return this.deps.runMutation(recoverRuns, { at: this.deps.now() });
  }

  /** A chat turn ended: if a scheduled run started it, record how it went. */
  turnFinished(turn: FinishedTurn): void {
    const reason = turn.status === "completed" ? null : turn.error ? turn.error.message : `the reply ended ${turn.status}`;
    this.deps.runMutation(finishRunOfMessage, {
      messageId: turn.userMessageId,
      status: turn.status === "completed" ? "completed" : "failed",
      reason,
      at: this.deps.now(),
    });
  }

  private async fire(run: ClaimedRun): Promise<void> {
    try {
      await this.deps.send({
        chat: run.chatId,
        user: run.owner,
        text: run.prompt,
        onRecorded: (messageId) => this.deps.runMutation(attachMessage, { runId: run.runId, messageId }),
      });
    } catch (err) {
      // Not sent (busy or archived chat, unreachable worker): the run failed, saying why. If the
      // turn had started, its end already recorded this and the update finds nothing to change.
      const reason = err instanceof Error ? err.message : String(err);
      this.deps.runMutation(finishRun, { runId: run.runId, status: "failed", reason, at: this.deps.now() });
      this.deps.log.warn("a scheduled prompt could not be sent", { schedule: run.scheduleId, reason });
    }
  }
}
