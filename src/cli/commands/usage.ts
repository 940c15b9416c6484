// ocfleet usage: tokens and cost of finished replies, grouped, from what OpenCode reported.
import type { Command } from "../commander.js";
import { api, type UsageFigures, type UsageGrouping, type UsageReport } from "../../protocol/api/index.js";
import { CliError, formatTable, formatUsd, style } from "../output.js";
import { defineRead } from "../command.js";

const GROUPINGS: readonly UsageGrouping[] = ["chat", "worker", "machine", "model", "user", "day"];

interface UsageOptions {
  by?: string;
  since?: string;
  all?: boolean;
}

const figures = (f: UsageFigures) => [
  String(f.replies),
  String(f.tokens.input),
  String(f.tokens.output),
  String(f.tokens.reasoning),
  `${f.tokens.cacheRead}/${f.tokens.cacheWrite}`,
  formatUsd(f.cost),
];

function renderReport(report: UsageReport): string {
  if (report.rows.length === 0) return style.dim(`no finished replies since ${new Date(report.since).toLocaleString()}`);
  const label = report.by === "day" ? "DAY" : report.by.toUpperCase();
  return formatTable([
    [label, "REPLIES", "INPUT", "OUTPUT", "REASONING", "CACHE R/W", "COST"].map(style.dim),
    ...report.rows.map((r) => [r.label, ...figures(r)]),
    [style.bold("total"), ...figures(report.total).map(style.bold)],
  ]);
}

export function registerUsageCommands(program: Command): void {
  defineRead(
    program
      .command("usage")
      .description("tokens and cost of your chats' replies, as OpenCode reported them")
      .option("--by <grouping>", "chat, worker, machine, model, user or day (default: day)")
      .option("--since <age>", "this far back: 12h, 7d, 4w (default: 30d)")
      .option("--all", "every user's chats (admins)"),
    {
      check: (_args, options: UsageOptions) => {
        if (options.by !== undefined && !GROUPINGS.includes(options.by as UsageGrouping))
          throw new CliError(`--by: must be one of ${GROUPINGS.join(", ")}, not '${options.by}'`, 2);
      },
      run: (c, _args, options: UsageOptions) =>
        c.call(api.usage.report, {
          ...(options.by ? { by: options.by as UsageGrouping } : {}),
          ...(options.since ? { since: options.since } : {}),
          ...(options.all ? { all: true } : {}),
          utcOffsetMinutes: -new Date().getTimezoneOffset(),
        }),
      human: (report) => renderReport(report),
    },
  );
}
