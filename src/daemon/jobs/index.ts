// Background work of the daemon, on timers: the schedule runner and the cleanup jobs.
// The runner's timer wakes at the next due time and at least at every whole minute; the cleanup
// jobs run every `everyMs` (hourly by default), the first time shortly after start.
import type { ChatRuntime } from "../chat/runtime.js";
import type { InternalRunner } from "../model/context.js";
import type { Logger } from "../log.js";
import { BATCH, CLEANUP_JOBS, deleteBatch, recordJobRun, type CleanupSettings } from "./cleanup.js";
import { ScheduleRunner, type SchedulerDeps } from "./scheduler.js";

export { DEFAULT_CLEANUP, jobStatuses, type CleanupSettings } from "./cleanup.js";

export interface BackgroundJobsDeps {
  log: Logger;
  chat: ChatRuntime;
  runQuery: InternalRunner["runQuery"];
  runMutation: InternalRunner["runMutation"];
  send: SchedulerDeps["send"];
  cleanup: CleanupSettings;
  now?: () => number;
}

/** What functions may ask of the background jobs. */
export interface JobsHandle {
  /** Schedules changed: recompute when the runner must next wake. */
  wakeScheduler(): void;
  readonly cleanup: CleanupSettings;
}

/** The first cleanup runs this long after start (or sooner if the interval is shorter), not during it. */
const FIRST_CLEANUP_DELAY_MS = 30_000;
const MINUTE = 60_000;

export class BackgroundJobs implements JobsHandle {
  readonly runner: ScheduleRunner;
  readonly cleanup: CleanupSettings;
  private readonly now: () => number;
  private schedulerTimer: NodeJS.Timeout | undefined;
  private cleanupTimer: NodeJS.Timeout | undefined;
  /** Timers are armed (between start and stop). */
  private running = false;
  /** stop() was called: background work ends at the next step. */
  private stopped = false;
  private cleaning: Promise<void> | undefined;

  constructor(private readonly deps: BackgroundJobsDeps) {
    this.now = deps.now ?? Date.now;
    this.cleanup = deps.cleanup;
    this.runner = new ScheduleRunner({ now: this.now, log: deps.log, runQuery: deps.runQuery, runMutation: deps.runMutation, send: deps.send });
  }

  /**
   * Readies the runner without timers: closes runs the last stop left open, and records how each
   * run's turn ends. start() does this first; tests that drive tick() by hand call only this.
   */
  attach(): void {
    const recovered = this.runner.recover();
    if (recovered > 0) this.deps.log.info("scheduled runs interrupted by the last stop marked failed", { count: recovered });
    this.deps.chat.onTurnFinished((turn) => this.runner.turnFinished(turn));
  }

  start(): void {
    this.attach();
    this.running = true;
    this.armScheduler();
    this.cleanupTimer = setTimeout(() => this.cleanupLoop(), Math.min(FIRST_CLEANUP_DELAY_MS, this.cleanup.everyMs));
    this.cleanupTimer.unref();
  }

  /**
   * Stops the timers. Turn endings are still recorded: the daemon's stop interrupts turns after
   * this, and their runs should say so.
   */
  stop(): void {
    this.running = false;
    this.stopped = true;
    clearTimeout(this.schedulerTimer);
    clearTimeout(this.cleanupTimer);
  }

  wakeScheduler(): void {
    if (this.running) this.armScheduler();
  }

  /** Runs every cleanup job once, now; resolves when all have been recorded. */
  runCleanup(): Promise<void> {
    this.cleaning ??= this.cleanAll().finally(() => (this.cleaning = undefined));
    return this.cleaning;
  }

  private armScheduler(): void {
    clearTimeout(this.schedulerTimer);
    const now = this.now();
    let nextDue: number | null = null;
    try {
      nextDue = this.runner.nextDueAt();
    } catch (err) {
      this.deps.log.error("cannot read when schedules are due", { error: err });
    }
    // Wake at the next due time, and at every whole minute anyway: a clock that jumped or a
    // machine that slept is noticed within a minute.
    const nextMinute = Math.floor(now / MINUTE) * MINUTE + MINUTE;
    const at = nextDue === null ? nextMinute : Math.min(nextDue, nextMinute);
    this.schedulerTimer = setTimeout(() => this.schedulerTick(), Math.max(0, at - now));
    this.schedulerTimer.unref();
  }

  private schedulerTick(): void {
    if (!this.running) return;
    // Claims happen synchronously inside tick(); the sends go on without holding up the timer.
    this.runner.tick().catch((err: unknown) => this.deps.log.error("schedule tick failed", { error: err }));
    this.armScheduler();
  }

  private cleanupLoop(): void {
    if (!this.running) return;
    void this.runCleanup().finally(() => {
      if (!this.running) return;
      this.cleanupTimer = setTimeout(() => this.cleanupLoop(), this.cleanup.everyMs);
      this.cleanupTimer.unref();
    });
  }

  private async cleanAll(): Promise<void> {
    for (const job of CLEANUP_JOBS) {
      if (this.stopped) return;
      const startedAt = this.now();
      let removed = 0;
      let error: string | null = null;
      try {
        for (;;) {
          const n = this.deps.runMutation(deleteBatch, { job: job.name, now: startedAt, settings: this.cleanup, limit: BATCH });
          removed += n;
          if (n < BATCH || this.stopped) break;
          await new Promise((resolve) => setImmediate(resolve)); // let calls in between batches
        }
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        this.deps.log.error("cleanup job failed", { job: job.name, error: err });
      }
      if (this.stopped) return;
      this.deps.runMutation(recordJobRun, { job: job.name, startedAt, finishedAt: this.now(), removed, error });
      if (removed > 0) this.deps.log.info("cleanup", { job: job.name, removed });
    }
  }
}
