// Usage: what finished replies cost, from one place, the reply's own record (messages: tokens and
// cost as OpenCode reported them, summed over a turn's steps by the runtime). Read through the
// covering index messages_usage (migration 0010). Shared by the usage report and budgets.
import type { TokenCounts, UsageFigures } from "../../protocol/api/index.js";
import type { ReadCtx } from "./context.js";
import { TABLES } from "./tables.js";

/** The figures' SQL, over replies `m`: one row of sums. */
export const SUM_FIGURES = `COUNT(*) AS replies, COALESCE(SUM(m.tokens_input), 0) AS input, COALESCE(SUM(m.tokens_output), 0) AS output,
  COALESCE(SUM(m.tokens_reasoning), 0) AS reasoning, COALESCE(SUM(m.tokens_cache_read), 0) AS cache_read,
  COALESCE(SUM(m.tokens_cache_write), 0) AS cache_write, COALESCE(SUM(m.cost), 0) AS cost`;

/** Finished replies since a time (the partial index's condition, so the planner can use it). */
export const FINISHED_SINCE = "m.role = 'assistant' AND m.completed_at IS NOT NULL AND m.completed_at >= ?";

export interface FigureRow {
  replies: number;
  input: number;
  output: number;
  reasoning: number;
  cache_read: number;
  cache_write: number;
  cost: number;
}

export function toFigures(row: FigureRow): UsageFigures {
  const tokens: TokenCounts = { input: row.input, output: row.output, reasoning: row.reasoning, cacheRead: row.cache_read, cacheWrite: row.cache_write };
  return { replies: row.replies, tokens, cost: row.cost };
}

/** What replies cost since `since`, in USD: of one user's chats, on one worker, or everyone's. */
export function spentSince(ctx: ReadCtx, since: number, scope: { ownerId?: string; workerId?: string }): number {
  ctx.reads(TABLES.messages);
  const where = [FINISHED_SINCE];
  const params: unknown[] = [since];
  if (scope.ownerId) {
    where.push("c.owner_id = ?");
    params.push(scope.ownerId);
  }
  if (scope.workerId) {
    where.push("c.worker_id = ?");
    params.push(scope.workerId);
  }
  const join = scope.ownerId || scope.workerId ? " JOIN chats c ON c.id = m.chat_id" : "";
  const row = ctx.db.prepare(`SELECT COALESCE(SUM(m.cost), 0) AS cost FROM messages m${join} WHERE ${where.join(" AND ")}`).get(...params) as {
    cost: number;
  };
  return row.cost;
}
