// ocfleet schedule …: prompts sent into a chat at the times of a cron expression, and their runs.
import type { Command } from "../commander.js";
import { chooseWorker } from "../config.js";
import { api, type ScheduleRunView, type ScheduleView } from "../../protocol/api/index.js";
import { CliError, formatTable, style } from "../output.js";
import { defineRead } from "../command.js";
import { defineWatch, type WatchSpec } from "../watch.js";
import type { QueryRef } from "../../protocol/api/index.js";

function when(at: number | null): string {
  return at === null ? "-" : new Date(at).toLocaleString();
}

function paintRun(status: ScheduleRunView["status"]): string {
  return status === "completed" ? style.green(status) : status === "sent" ? style.cyan(status) : style.yellow(status);
}

export function renderSchedules(schedules: ScheduleView[], showOwner = false): string {
  if (schedules.length === 0) return style.dim('no schedules yet; add one with: ocfleet schedule add --worker <worker> --cron "0 9 * * 1-5" --prompt "…"');
  return formatTable([
    ["NAME", "CRON", "TIME ZONE", "WORKER", "NEXT RUN", "LAST RUN", ...(showOwner ? ["OWNER"] : [])].map(style.dim),
    ...schedules.map((s) => [
      s.name,
      s.cron,
      s.timezone,
      s.workerName,
      s.paused ? style.yellow("paused") : when(s.nextRunAt),
      s.lastRun ? `${paintRun(s.lastRun.status)} ${style.dim(when(s.lastRun.scheduledFor))}` : style.dim("never"),
      ...(showOwner ? [s.ownerName] : []),
    ]),
  ]);
}

export function renderRuns(runs: ScheduleRunView[]): string {
  if (runs.length === 0) return style.dim("no runs yet");
  return formatTable([
    ["SCHEDULED FOR", "STATUS", "MESSAGE", "REASON"].map(style.dim),
    ...runs.map((r) => [when(r.scheduledFor), paintRun(r.status), r.messageId ?? "", r.reason ?? ""]),
  ]);
}

function describe(s: ScheduleView): string {
  const next = s.paused ? "paused" : s.nextRunAt === null ? "no future run" : `next run ${when(s.nextRunAt)}`;
  return `${style.bold(s.name)} (${s.id}): '${s.cron}' in ${s.timezone} on ${s.workerName}, into chat '${s.chatTitle}' (${s.chatId}); ${next}`;
}

type AddOptions = { worker?: string; cron: string; prompt: string; chat?: string; tz?: string; name?: string };

export function registerScheduleCommands(program: Command): void {
  const schedule = program.command("schedule").description("scheduled prompts: sent into a chat at the times of a cron expression");

  defineRead(
    schedule
      .command("add")
      .description("add a scheduled prompt; without --chat it gets a chat of its own, named after it")
      .option("--worker <worker>", "the worker (id or name); unless --chat is given (default: `ocfleet config get worker`, or your only worker)")
      .requiredOption("--cron <expression>", 'when: 5 fields "minute hour day month weekday" (e.g. "0 9 * * 1-5"), or 6 with seconds first')
      .requiredOption("--prompt <text>", "what to send")
      .option("--chat <chat>", "send into this chat (id) instead of a new one")
      .option("--tz <zone>", "IANA time zone the expression is read in (default: this terminal's)")
      .option("--name <name>", "a name to refer to it by (default: from the prompt)"),
    {
      fields: { timezone: "--tz" },
      run: async (c, _args, options: AddOptions) => {
        const worker = options.chat === undefined ? await chooseWorker(c, options.worker) : options.worker;
        // Without --tz, "9 o'clock" means 9 o'clock where the person typing it is.
        const timezone = options.tz ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
        return c.call(api.schedules.add, {
          cron: options.cron,
          prompt: options.prompt,
          ...(timezone ? { timezone } : {}),
          ...(worker !== undefined ? { worker } : {}),
          ...(options.chat !== undefined ? { chat: options.chat } : {}),
          ...(options.name !== undefined ? { name: options.name } : {}),
        });
      },
      human: (added) => `added ${describe(added)}`,
    },
  );

  defineRead(schedule.command("list").description("your schedules; --all shows everyone's (admins)").option("--all", "everyone's schedules (admins only)"), {
    run: (c, _args, options: { all?: boolean }) => c.call(api.schedules.list, options.all ? { all: true } : {}),
    human: (all, _args, options) => renderSchedules(all, options.all),
  });

  defineRead(schedule.command("pause <schedule>").description("stop firing until resumed (times that pass meanwhile are skipped, not missed)"), {
    run: (c, [ref]) => c.call(api.schedules.pause, { schedule: ref! }),
    human: (view) => describe(view),
  });
  defineRead(schedule.command("resume <schedule>").description("fire again from the next time on"), {
    run: (c, [ref]) => c.call(api.schedules.resume, { schedule: ref! }),
    human: (view) => describe(view),
  });

  defineRead(schedule.command("remove <schedule>").description("delete a schedule and its runs (its chat stays)"), {
    run: (c, [ref]) => c.call(api.schedules.remove, { schedule: ref! }),
    human: (outcome) => `removed schedule ${outcome.name}`,
  });

  defineRead(
    schedule
      .command("runs <schedule>")
      .description("a schedule's runs, newest first: sent, completed, failed (with the reason) or missed")
      .option("-n, --limit <count>", "how many", "50"),
    {
      run: (c, [ref], options: { limit: string }) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          throw new CliError(`--limit must be a whole number from 1 to 1000, not '${options.limit}'`, 2);
        return c.call(api.schedules.runs, { schedule: ref!, limit });
      },
      human: (runs) => renderRuns(runs),
    },
  );

  defineWatch(
    schedule.command("watch [schedule]").description("your schedules, or one schedule's runs, printed again on every change (Ctrl-C to stop)"),
    ([ref]): WatchSpec<QueryRef> =>
      ref === undefined
        ? { query: api.schedules.list, args: {}, label: "your schedules", render: (all: ScheduleView[]) => renderSchedules(all) }
        : { query: api.schedules.runs, args: { schedule: ref }, label: `the runs of ${ref}`, render: renderRuns },
  );
}
