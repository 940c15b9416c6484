// Usage and budgets add up replies by when they ended. A covering index over the figures of every
// finished reply lets `usage --by day` (and a budget's "spent this period") read 100k replies
// without touching the table. Budgets: a cap in USD per period on a worker, a user, or everyone.
import type { Migration } from "../migrate.js";

export const usageBudgets: Migration = {
  version: 10,
  name: "usage-budgets",
  up(db) {
    db.exec(`
      CREATE INDEX messages_usage ON messages (completed_at, chat_id, model, cost, tokens_input, tokens_output, tokens_reasoning, tokens_cache_read, tokens_cache_write)
        WHERE role = 'assistant' AND completed_at IS NOT NULL;

      CREATE TABLE budgets (
        id TEXT PRIMARY KEY,
        scope TEXT NOT NULL CHECK (scope IN ('worker', 'user', 'all')),
        -- The worker's or user's id; '' for all.
        target_id TEXT NOT NULL,
        usd REAL NOT NULL CHECK (usd > 0),
        period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month')),
        created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX budgets_by_target ON budgets (scope, target_id);
    `);
  },
};
