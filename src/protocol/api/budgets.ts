// Budgets: a cap in USD per day, week or month on a worker, a user, or everyone. When one is
// spent, new turns on what it covers are refused; a turn already running finishes.
import type { BudgetId } from "../ids.js";
import { defineModule, mutation, query } from "./define.js";

export type BudgetScope = "worker" | "user" | "all";
export type BudgetPeriod = "day" | "week" | "month";

export interface BudgetView {
  id: BudgetId;
  scope: BudgetScope;
  /** The worker's or user's name; "everyone" for all. */
  targetName: string;
  usd: number;
  period: BudgetPeriod;
  /** Spent in the current period, USD. */
  spent: number;
  /** When the current period began and when it ends (ms since the epoch, the daemon's local time). */
  periodStart: number;
  resetsAt: number;
}

/** Exactly one of worker, user, all. */
export interface BudgetTarget {
  worker?: string;
  user?: string;
  all?: boolean;
}

export const budgets = defineModule("budgets", {
  /** Sets (or replaces) the budget on the target. Everyone: admins; a user: admins, or that user; a worker: whoever controls it. */
  set: mutation<BudgetTarget & { usd: number; period: BudgetPeriod }, BudgetView>(),
  /** Budgets that apply to the caller (admins: all of them). */
  list: query<Record<string, never>, BudgetView[]>(),
  clear: mutation<BudgetTarget, { cleared: boolean }>(),
});
