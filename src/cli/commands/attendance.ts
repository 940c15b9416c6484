// ocfleet attendance …: who is present, absent or remote under a key, live for everyone.
import type { Command } from "../commander.js";
import { ATTENDANCE_STATUSES as STATUSES } from "../../protocol/api/attendance.js";
import { api, type AttendanceStatus, type AttendanceView } from "../../protocol/api/index.js";
import { CliError, formatAge, formatTable, style } from "../output.js";
import { defineRead } from "../command.js";
import { defineWatch } from "../watch.js";

function paintStatus(status: AttendanceStatus): string {
  return status === "present" ? style.green(status) : status === "remote" ? style.cyan(status) : style.yellow(status);
}

function countsLine(counts: Record<AttendanceStatus, number>): string {
  return STATUSES.map((s) => `${counts[s]} ${s}`).join(" · ");
}

export function renderAttendance(view: AttendanceView, now = Date.now()): string {
  const lines = [`${style.bold(view.key)}  ${style.dim(countsLine(view.counts))}`];
  if (view.entries.length === 0) return [...lines, style.dim("  (nobody yet)")].join("\n");
  const table = formatTable([
    ["WHO", "STATUS", "REASON", "MARKED"].map(style.dim),
    ...view.entries.map((e) => [e.userName, paintStatus(e.status), e.reason ?? "", formatAge(e.updatedAt, now)]),
  ]);
  return [...lines, table].join("\n");
}

function parseStatus(value: string | undefined): AttendanceStatus | undefined {
  if (value === undefined) return undefined;
  if (!(STATUSES as readonly string[]).includes(value)) throw new CliError(`--status must be present, absent or remote, not '${value}'`, 2);
  return value as AttendanceStatus;
}

export function registerAttendanceCommands(program: Command): void {
  const attendance = program.command("attendance").description("attendance under a key (a meeting, a day): present, absent or remote");

  defineRead(
    attendance
      .command("mark <key>")
      .description("mark yourself (present unless --status says otherwise); marking again updates your entry")
      .option("--status <status>", "present, absent or remote")
      .option("--reason <text>", "why (e.g. for an absence)"),
    {
      run: (c, [key], options: { status?: string; reason?: string }) => {
        const status = parseStatus(options.status);
        return c.call(api.attendance.mark, {
          key: key!,
          ...(status ? { status } : {}),
          ...(options.reason !== undefined ? { reason: options.reason } : {}),
        });
      },
      human: (entry, [key]) => `${entry.userName} is ${entry.status} at ${key}${entry.reason ? ` (${entry.reason})` : ""}`,
    },
  );

  defineRead(attendance.command("list [key]").description("who is present under a key, or every key when none is given"), {
    run: async (c, [key]) => (key === undefined ? { all: await c.call(api.attendance.list, {}) } : { view: await c.call(api.attendance.get, { key }) }),
    json: (result) => ("all" in result ? result.all : result.view),
    human: (result, [key]) => {
      if ("view" in result) {
        if (!result.view) throw new CliError(`no attendance under '${key}'; mark yourself with: ocfleet attendance mark ${key}`);
        return renderAttendance(result.view);
      }
      if (result.all.length === 0) return style.dim("no attendance yet; mark yourself with: ocfleet attendance mark <key>");
      return formatTable([
        ["KEY", "PRESENT", "REMOTE", "ABSENT", "UPDATED"].map(style.dim),
        ...result.all.map((a) => [a.key, String(a.counts.present), String(a.counts.remote), String(a.counts.absent), formatAge(a.updatedAt)]),
      ]);
    },
  });

  defineRead(
    attendance
      .command("remove <key>")
      .description("remove your entry; admins may remove anyone's with --user")
      .option("--user <user>", "whose entry (an id, a name or an email); admins only, unless it is you"),
    {
      run: (c, [key], options: { user?: string }) =>
        c.call(api.attendance.remove, { key: key!, ...(options.user !== undefined ? { user: options.user } : {}) }),
      human: (outcome, [key]) => `removed ${outcome.userName}'s attendance at ${key}`,
    },
  );

  defineWatch(attendance.command("watch <key>").description("print the attendance again each time anyone marks or changes it (Ctrl-C to stop)"), ([key]) => ({
    query: api.attendance.get,
    args: { key: key! },
    label: key!,
    render: (view) => (view ? renderAttendance(view) : style.dim(`nobody has marked attendance at '${key}' yet; waiting…`)),
  }));
}
