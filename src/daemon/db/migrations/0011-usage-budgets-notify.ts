// Usage and budgets add up replies by when they ended. A covering index over the figures of every
// finished reply lets `usage --by day` (and a budget's "spent this period") read 100k replies
// without touching the table. Budgets: a cap in USD per period on a worker, a user, or everyone.
// Notifications: a user's webhooks (the URL encrypted: Slack's and ntfy's URLs are credentials),
// the log of their deliveries, and whether the user wants desktop notifications.
import type { Migration } from "../migrate.js";

export const usageBudgetsNotify: Migration = {
  version: 11,
  name: "usage-budgets-notify",
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

      CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        url_encrypted TEXT NOT NULL,
        -- What the list shows: scheme, host and a hint of the path, never the whole URL.
        url_shown TEXT NOT NULL,
        -- JSON array of done, failed, waiting.
        events TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX webhooks_by_owner ON webhooks (owner_id);

      CREATE TABLE notify_deliveries (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        -- No foreign key: the log outlives a removed webhook.
        webhook_id TEXT,
        channel TEXT NOT NULL CHECK (channel IN ('webhook', 'desktop')),
        event TEXT NOT NULL CHECK (event IN ('done', 'failed', 'waiting')),
        chat_id TEXT,
        status TEXT NOT NULL CHECK (status IN ('sending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX notify_deliveries_by_owner ON notify_deliveries (owner_id, created_at);

      CREATE TABLE notify_settings (
        user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        desktop INTEGER NOT NULL DEFAULT 0 CHECK (desktop IN (0, 1))
      ) STRICT;
    `);
  },
};
