// Usage and budgets add up replies by when they ended. A covering index over the figures of every
// finished reply lets `usage --by day` (and a budget's "spent this period") read 100k replies
// without touching the table.
import type { Migration } from "../migrate.js";

export const usage: Migration = {
  version: 10,
  name: "usage",
  up(db) {
    db.exec(`
      CREATE INDEX messages_usage ON messages (completed_at, chat_id, model, cost, tokens_input, tokens_output, tokens_reasoning, tokens_cache_read, tokens_cache_write)
        WHERE role = 'assistant' AND completed_at IS NOT NULL;
    `);
  },
};
