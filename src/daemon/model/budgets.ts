// Budgets: which apply to a chat, what they have spent this period (model/usage.ts), and the check
// the send path runs before anything is written or sent (chat/send.ts). Periods are the daemon's
// local calendar: a day from midnight, a week from Monday, a month from the 1st.
import type { BudgetPeriod, BudgetScope, BudgetView } from "../../protocol/api/index.js";
import { FleetError } from "../../protocol/errors.js";
import type { BudgetId } from "../../protocol/ids.js";
import { internalQuery, type ReadCtx } from "./context.js";
import { TABLES } from "./tables.js";
import { spentSince } from "./usage.js";

export interface BudgetRow {
  id: BudgetId;
  scope: BudgetScope;
  target_id: string;
  target_name: string | null;
  usd: number;
  period: BudgetPeriod;
}

export const SELECT_BUDGET = `SELECT b.id, b.scope, b.target_id, b.usd, b.period,
    CASE b.scope WHEN 'worker' THEN (SELECT name FROM workers WHERE id = b.target_id) WHEN 'user' THEN (SELECT name FROM users WHERE id = b.target_id) END AS target_name
  FROM budgets b`;

/** The current period of a budget: when it began and when it resets. */
export function periodOf(period: BudgetPeriod, now: number): { start: number; end: number } {
  const start = new Date(now);
  start.setHours(0, 0, 0, 0);
  if (period === "week") start.setDate(start.getDate() - ((start.getDay() + 6) % 7));
  if (period === "month") start.setDate(1);
  const end = new Date(start);
  if (period === "day") end.setDate(end.getDate() + 1);
  else if (period === "week") end.setDate(end.getDate() + 7);
  else end.setMonth(end.getMonth() + 1);
  return { start: start.getTime(), end: end.getTime() };
}

export function toBudgetView(ctx: ReadCtx, row: BudgetRow): BudgetView {
  const { start, end } = periodOf(row.period, ctx.now);
  const scope = row.scope === "worker" ? { workerId: row.target_id } : row.scope === "user" ? { ownerId: row.target_id } : {};
  return {
    id: row.id,
    scope: row.scope,
    targetName: row.scope === "all" ? "everyone" : (row.target_name ?? row.target_id),
    usd: row.usd,
    period: row.period,
    spent: spentSince(ctx, start, scope),
    periodStart: start,
    resetsAt: end,
  };
}

const usd = (value: number) => `$${value.toFixed(value < 1 ? 4 : 2)}`;

function describe(view: BudgetView): string {
  const what = view.scope === "all" ? "everyone's budget" : `the budget of ${view.scope} ${view.targetName}`;
  return `${what} (${usd(view.usd)} a ${view.period})`;
}

/**
 * The budgets over a chat (everyone's, its owner's, its worker's): throws failed_precondition
 * naming the first one spent, how much, and when it resets; otherwise returns a warning for each
 * past 80 %.
 */
export const checkBudgets = internalQuery((ctx, args: { ownerId: string; workerId: string }): { warnings: string[] } => {
  ctx.reads(TABLES.budgets);
  const rows = ctx.db
    .prepare(`${SELECT_BUDGET} WHERE (b.scope = 'all') OR (b.scope = 'user' AND b.target_id = ?) OR (b.scope = 'worker' AND b.target_id = ?)`)
    .all(args.ownerId, args.workerId) as BudgetRow[];
  const warnings: string[] = [];
  for (const row of rows) {
    const view = toBudgetView(ctx, row);
    if (view.spent >= view.usd)
      throw new FleetError(
        "failed_precondition",
        `${describe(view)} is spent: ${usd(view.spent)} since ${new Date(view.periodStart).toLocaleString()}; it resets ${new Date(view.resetsAt).toLocaleString()} (or an admin raises it: ocfleet budget set)`,
        { budget: view.id, spent: view.spent, usd: view.usd, resetsAt: view.resetsAt },
      );
    if (view.spent >= 0.8 * view.usd) warnings.push(`${describe(view)} is ${Math.floor((100 * view.spent) / view.usd)} % spent (${usd(view.spent)})`);
  }
  return { warnings };
});
