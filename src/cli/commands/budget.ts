// ocfleet budget set|list|clear: caps in USD per day, week or month on a worker, a user or everyone.
import type { Command } from "../commander.js";
import { api, type BudgetPeriod, type BudgetTarget, type BudgetView } from "../../protocol/api/index.js";
import { CliError, formatTable, formatUsd, style } from "../output.js";
import { defineRead } from "../command.js";

interface TargetOptions {
  worker?: string;
  user?: string;
  all?: boolean;
}

const PERIODS: readonly BudgetPeriod[] = ["day", "week", "month"];

function targetOf(options: TargetOptions): BudgetTarget {
  const named = [options.worker, options.user, options.all].filter((v) => v !== undefined && v !== false).length;
  if (named !== 1) throw new CliError("give exactly one of --worker <worker>, --user <user> or --all", 2);
  return options.worker ? { worker: options.worker } : options.user ? { user: options.user } : { all: true };
}

function withTargetOptions(cmd: Command): Command {
  return cmd
    .option("--worker <worker>", "a worker's budget (its owner or an admin)")
    .option("--user <user>", "a user's budget, over all their chats (yours, or anyone's for admins)")
    .option("--all", "everyone's budget (admins)");
}

const describeTarget = (b: BudgetView) => (b.scope === "all" ? "everyone" : `${b.scope} ${b.targetName}`);

function renderBudgets(budgets: BudgetView[]): string {
  if (budgets.length === 0) return style.dim("no budgets; set one with: ocfleet budget set --worker <worker> --usd 5 --period day");
  return formatTable([
    ["BUDGET", "LIMIT", "SPENT", "", "RESETS"].map(style.dim),
    ...budgets.map((b) => {
      const share = b.spent / b.usd;
      const state = share >= 1 ? style.red("spent") : share >= 0.8 ? style.yellow(`${Math.floor(share * 100)} %`) : `${Math.floor(share * 100)} %`;
      return [describeTarget(b), `${formatUsd(b.usd)} a ${b.period}`, formatUsd(b.spent), state, new Date(b.resetsAt).toLocaleString()];
    }),
  ]);
}

export function registerBudgetCommands(program: Command): void {
  const budget = program.command("budget").description("spending caps: new turns are refused once one is spent (a running turn finishes)");

  defineRead(
    withTargetOptions(budget.command("set").description("set (or replace) a budget"))
      .requiredOption("--usd <amount>", "the cap in US dollars")
      .requiredOption("--period <period>", "day, week or month (the daemon's calendar)"),
    {
      check: (_args, options: TargetOptions & { usd: string; period: string }) => {
        targetOf(options);
        if (!/^\d+(\.\d+)?$/.test(options.usd) || Number(options.usd) <= 0) throw new CliError(`--usd: must be an amount above 0, not '${options.usd}'`, 2);
        if (!PERIODS.includes(options.period as BudgetPeriod)) throw new CliError(`--period: must be day, week or month, not '${options.period}'`, 2);
      },
      run: (c, _args, options: TargetOptions & { usd: string; period: string }) =>
        c.call(api.budgets.set, { ...targetOf(options), usd: Number(options.usd), period: options.period as BudgetPeriod }),
      human: (b) => `budget for ${describeTarget(b)}: ${formatUsd(b.usd)} a ${b.period}; ${formatUsd(b.spent)} spent so far this ${b.period}`,
    },
  );

  defineRead(budget.command("list").description("budgets that apply to you (admins: all), with what is spent this period"), {
    run: (c) => c.call(api.budgets.list, {}),
    human: (budgets) => renderBudgets(budgets),
  });

  defineRead(withTargetOptions(budget.command("clear").description("remove a budget")), {
    check: (_args, options: TargetOptions) => void targetOf(options),
    run: (c, _args, options: TargetOptions) => c.call(api.budgets.clear, targetOf(options)),
    human: (result) => (result.cleared ? "budget cleared" : "there was no such budget"),
  });
}
