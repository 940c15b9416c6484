// Usage: tokens and cost as OpenCode reported them for each finished reply, added up.
import type { TokenCounts } from "./chat.js";
import { defineModule, query } from "./define.js";

export type UsageGrouping = "chat" | "worker" | "machine" | "model" | "user" | "day";

export interface UsageFigures {
  /** Finished replies counted. */
  replies: number;
  tokens: TokenCounts;
  /** USD, as OpenCode priced it (0 where the model has no price). */
  cost: number;
}

export interface UsageRow extends UsageFigures {
  /** What the row is: a chat, worker, machine or user id, a model id, or a day (YYYY-MM-DD). */
  key: string;
  /** A name to show: the chat's title, the worker's or user's name, … */
  label: string;
}

export interface UsageArgs {
  by?: UsageGrouping;
  /** How far back: 30m, 12h, 7d, 4w (default 30d). */
  since?: string;
  /** Admins: every user's chats, not only their own. */
  all?: boolean;
  /** The client's offset from UTC in minutes (east positive), so days are the caller's days. */
  utcOffsetMinutes?: number;
}

export interface UsageReport {
  by: UsageGrouping;
  since: number;
  rows: UsageRow[];
  total: UsageFigures;
}

export const usage = defineModule("usage", {
  report: query<UsageArgs, UsageReport>(),
});
