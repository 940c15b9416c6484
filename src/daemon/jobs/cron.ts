// Cron expressions and time zones, read by croner: validation with croner's own messages, and
// the times a schedule names. Patterns have 5 fields (minute hour day month weekday) or 6, with
// seconds first; the daemon's timer wakes for the next due time, so seconds work too.
import { Cron } from "croner";

export interface CronProblem {
  field: "cron" | "timezone";
  message: string;
}

/** The daemon's own time zone: the default for schedules added without one. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function parse(pattern: string, timezone: string | undefined): Cron {
  return new Cron(pattern, { mode: "5-or-6-parts", ...(timezone ? { timezone } : {}) });
}

/** Why a time zone name is not one croner (and the platform's Intl) knows, or null. */
export function timeZoneProblem(timezone: string): string | null {
  try {
    // Any valid pattern: only the zone is under test.
    parse("0 0 * * *", timezone).nextRun(new Date(0));
    return null;
  } catch (err) {
    // croner wraps the cause twice ("… Original error: toTZ: Invalid timezone 'X' … Original error: …");
    // its middle message is the one that says what to do.
    const message = err instanceof Error ? err.message : String(err);
    const layers = message.split(" Original error: ");
    return (layers[1] ?? layers[0]!).replace(/^toTZ:\s*/, "");
  }
}

/** Why a pattern cannot be used (croner's message), or null. Read in `timezone` when it is valid. */
export function cronProblem(pattern: string, timezone?: string): CronProblem | null {
  if (timezone !== undefined) {
    const zone = timeZoneProblem(timezone);
    if (zone) return { field: "timezone", message: zone };
  }
  let cron: Cron;
  try {
    cron = parse(pattern, timezone);
  } catch (err) {
    // croner speaks of its own class ("CronPattern: invalid configuration format …"); say it as a person would.
    const detail = (err instanceof Error ? err.message : String(err)).replace(/^CronPattern:\s*/, "").replace(/\.$/, "");
    return { field: "cron", message: `not a cron expression: ${detail}; e.g. "0 9 * * 1-5" (minute hour day month weekday)` };
  }
  if (cron.nextRun() === null) return { field: "cron", message: `'${pattern}' never matches a date from now on` };
  return null;
}

/** The times of one schedule's expression, in its time zone. */
export class CronTimes {
  private readonly cron: Cron;

  constructor(pattern: string, timezone: string) {
    this.cron = parse(pattern, timezone);
  }

  /** The first time strictly after `after`, or null when there is none. */
  nextAfter(after: number): number | null {
    return this.cron.nextRun(new Date(after))?.getTime() ?? null;
  }

  /** The latest time at or before `at`, or null. */
  latestAtOrBefore(at: number): number | null {
    return this.cron.previousRuns(1, new Date(at + 1))[0]?.getTime() ?? null;
  }

  /** Up to `n` times in [from, until), newest first. */
  newestBetween(from: number, until: number, n: number): number[] {
    return this.cron
      .previousRuns(n, new Date(until))
      .map((d) => d.getTime())
      .filter((t) => t >= from);
  }

  /** How many times fall in [from, until), counting at most `cap` (then it returns cap). */
  countBetween(from: number, until: number, cap: number): number {
    let count = 0;
    let t: number | null = from - 1;
    while (count < cap) {
      t = this.nextAfter(t);
      if (t === null || t >= until) break;
      count++;
    }
    return count;
  }
}
