// Collaboration and automation: attendance, discussions, presentations, scheduled prompts and
// their runs, and the record of cleanup job runs. Every list's filter and order has an index,
// and so do the cleanup jobs' deletes on the older tables.
import type { Migration } from "../migrate.js";

export const modules: Migration = {
  version: 5,
  name: "modules",
  up(db) {
    db.exec(`
      CREATE TABLE attendance_sheets (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX attendance_sheets_by_update ON attendance_sheets (updated_at);

      -- One entry per person per key: marking again updates it.
      CREATE TABLE attendance_entries (
        sheet_id INTEGER NOT NULL REFERENCES attendance_sheets (id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('present', 'absent', 'remote')),
        reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (sheet_id, user_id)
      ) STRICT;
      CREATE INDEX attendance_entries_by_time ON attendance_entries (sheet_id, created_at);
      CREATE INDEX attendance_entries_by_user ON attendance_entries (user_id);

      CREATE TABLE discussions (
        id TEXT PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        title TEXT,
        owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        concluded_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX discussions_by_update ON discussions (updated_at);
      CREATE INDEX discussions_by_owner ON discussions (owner_id);

      CREATE TABLE discussion_messages (
        id TEXT PRIMARY KEY,
        discussion_id TEXT NOT NULL REFERENCES discussions (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        author_id TEXT REFERENCES users (id) ON DELETE SET NULL,
        text TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX discussion_messages_by_seq ON discussion_messages (discussion_id, seq);
      CREATE INDEX discussion_messages_by_author ON discussion_messages (author_id);

      -- Each conclude adds one; reopening keeps them, so the history of decisions stays.
      CREATE TABLE discussion_conclusions (
        id INTEGER PRIMARY KEY,
        discussion_id TEXT NOT NULL REFERENCES discussions (id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        -- JSON array of 'decision' | 'action' | 'note'.
        tags TEXT NOT NULL DEFAULT '[]',
        concluded_by TEXT REFERENCES users (id) ON DELETE SET NULL,
        concluded_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX discussion_conclusions_by_time ON discussion_conclusions (discussion_id, concluded_at);
      CREATE INDEX discussion_conclusions_by_user ON discussion_conclusions (concluded_by);

      CREATE TABLE presentations (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        presenter_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        state TEXT NOT NULL CHECK (state IN ('running', 'stopped')),
        slide_count INTEGER NOT NULL,
        current_slide INTEGER NOT NULL,
        -- +1 per applied change; followers never go back to a lower one.
        version INTEGER NOT NULL,
        -- The presenter's clock reading of the command in effect: last writer wins.
        command_at INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        stopped_at INTEGER,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX presentations_by_state ON presentations (state, started_at);
      CREATE INDEX presentations_by_start ON presentations (started_at);
      CREATE INDEX presentations_by_presenter ON presentations (presenter_id, state, started_at);

      CREATE TABLE presentation_slides (
        presentation_id TEXT NOT NULL REFERENCES presentations (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        markdown TEXT NOT NULL,
        PRIMARY KEY (presentation_id, position)
      ) STRICT;

      CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        worker_id TEXT NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
        chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
        cron TEXT NOT NULL,
        timezone TEXT NOT NULL,
        prompt TEXT NOT NULL,
        paused_at INTEGER,
        -- The next time to fire; null while paused or when the expression has no future time.
        next_run_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX schedules_due ON schedules (next_run_at) WHERE next_run_at IS NOT NULL;
      CREATE INDEX schedules_by_owner ON schedules (owner_id, created_at);
      CREATE INDEX schedules_by_creation ON schedules (created_at);
      CREATE INDEX schedules_by_worker ON schedules (worker_id);
      CREATE INDEX schedules_by_chat ON schedules (chat_id);

      CREATE TABLE schedule_runs (
        id TEXT PRIMARY KEY,
        schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
        scheduled_for INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('sent', 'completed', 'failed', 'missed')),
        reason TEXT,
        -- No foreign keys: a run's record outlives the chat or message it names.
        chat_id TEXT,
        message_id TEXT,
        recorded_at INTEGER NOT NULL,
        finished_at INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX schedule_runs_by_time ON schedule_runs (schedule_id, scheduled_for);
      CREATE INDEX schedule_runs_in_flight ON schedule_runs (status) WHERE status = 'sent';
      CREATE INDEX schedule_runs_by_message ON schedule_runs (message_id) WHERE message_id IS NOT NULL;

      CREATE TABLE job_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        removed INTEGER NOT NULL,
        error TEXT
      ) STRICT;
      CREATE INDEX job_runs_by_job ON job_runs (job, started_at);

      -- For the cleanup jobs' deletes on tables of earlier migrations.
      CREATE INDEX sessions_by_revocation ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
      CREATE INDEX login_codes_used ON login_codes (used_at) WHERE used_at IS NOT NULL;
      CREATE INDEX stream_chunks_by_time ON stream_chunks (created_at);
    `);
  },
};
