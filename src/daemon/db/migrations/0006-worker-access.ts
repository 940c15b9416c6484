// Workers are shared by their owner (worker_shares, workers.shared_with_everyone), and chats outlive
// their worker: chats.worker_id no longer references workers (it was ON DELETE CASCADE, which
// deleted every transcript with the worker). It keeps the id of the worker the chat was on (ids are
// random and never reused, so it cannot come to mean another worker), and chats.worker_name keeps
// its name for display once the worker is gone.
import type { Migration } from "../migrate.js";

export const workerAccess: Migration = {
  version: 6,
  name: "worker-access",
  // Rebuilding chats drops the old table; with foreign keys on, that would cascade into its messages.
  foreignKeysOff: true,
  up(db) {
    db.exec(`
      ALTER TABLE workers ADD COLUMN shared_with_everyone INTEGER NOT NULL DEFAULT 0 CHECK (shared_with_everyone IN (0, 1));

      CREATE TABLE worker_shares (
        worker_id TEXT NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        shared_by TEXT REFERENCES users (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (worker_id, user_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX worker_shares_by_user ON worker_shares (user_id);

      CREATE TABLE chats_new (
        id TEXT PRIMARY KEY,
        worker_id TEXT NOT NULL,
        -- The worker's name when the chat was made, shown once the worker is removed.
        worker_name TEXT NOT NULL,
        owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        title_source TEXT NOT NULL CHECK (title_source IN ('pending', 'auto', 'user')),
        model TEXT,
        opencode_session_id TEXT,
        state TEXT NOT NULL CHECK (state IN ('active', 'inactive')),
        busy INTEGER NOT NULL DEFAULT 0 CHECK (busy IN (0, 1)),
        retry_attempt INTEGER,
        retry_message TEXT,
        retry_next_at INTEGER,
        archived_at INTEGER,
        last_activity_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      INSERT INTO chats_new (id, worker_id, worker_name, owner_id, title, title_source, model, opencode_session_id, state, busy,
                             retry_attempt, retry_message, retry_next_at, archived_at, last_activity_at, created_at, updated_at)
        SELECT c.id, c.worker_id, w.name, c.owner_id, c.title, c.title_source, c.model, c.opencode_session_id, c.state, c.busy,
               c.retry_attempt, c.retry_message, c.retry_next_at, c.archived_at, c.last_activity_at, c.created_at, c.updated_at
        FROM chats c JOIN workers w ON w.id = c.worker_id;
      DROP TABLE chats;
      ALTER TABLE chats_new RENAME TO chats;
      CREATE INDEX chats_by_owner ON chats (owner_id, archived_at, last_activity_at);
      CREATE INDEX chats_by_worker ON chats (worker_id, archived_at);
      CREATE INDEX chats_by_activity ON chats (state, busy, last_activity_at);
      CREATE UNIQUE INDEX chats_by_session ON chats (worker_id, opencode_session_id) WHERE opencode_session_id IS NOT NULL;
    `);
  },
};
