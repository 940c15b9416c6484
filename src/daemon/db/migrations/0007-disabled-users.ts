// Disabled users (an admin's decision): when and by whom, and why. A scheduled run that was due
// while its owner was disabled is recorded as skipped, which needs the runs table's status check
// widened: SQLite cannot alter a CHECK constraint, so the table is rebuilt with its indexes.
import type { Migration } from "../migrate.js";

export const disabledUsers: Migration = {
  version: 7,
  name: "disabled-users",
  up(db) {
    db.exec(`
      ALTER TABLE users ADD COLUMN disabled_at INTEGER;
      ALTER TABLE users ADD COLUMN disabled_by TEXT;
      ALTER TABLE users ADD COLUMN disabled_reason TEXT;

      CREATE TABLE schedule_runs_new (
        id TEXT PRIMARY KEY,
        schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
        scheduled_for INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('sent', 'completed', 'failed', 'missed', 'skipped')),
        reason TEXT,
        -- No foreign keys: a run's record outlives the chat or message it names.
        chat_id TEXT,
        message_id TEXT,
        recorded_at INTEGER NOT NULL,
        finished_at INTEGER
      ) STRICT;
      INSERT INTO schedule_runs_new SELECT id, schedule_id, scheduled_for, status, reason, chat_id, message_id, recorded_at, finished_at FROM schedule_runs;
      DROP TABLE schedule_runs;
      ALTER TABLE schedule_runs_new RENAME TO schedule_runs;
      CREATE UNIQUE INDEX schedule_runs_by_time ON schedule_runs (schedule_id, scheduled_for);
      CREATE INDEX schedule_runs_in_flight ON schedule_runs (status) WHERE status = 'sent';
      CREATE INDEX schedule_runs_by_message ON schedule_runs (message_id) WHERE message_id IS NOT NULL;
    `);
  },
};
