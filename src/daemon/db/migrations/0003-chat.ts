// Chats, their messages and parts, the stream chunks of replies in progress, and the permission
// and question requests OpenCode raises in them.
import type { Migration } from "../migrate.js";

export const chat: Migration = {
  version: 3,
  name: "chat",
  up(db) {
    db.exec(`
      CREATE TABLE chats (
        id TEXT PRIMARY KEY,
        worker_id TEXT NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
        owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        -- 'pending': named by its first prompt; 'auto': it was; 'user': named by a person.
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
      CREATE INDEX chats_by_owner ON chats (owner_id, archived_at, last_activity_at);
      CREATE INDEX chats_by_worker ON chats (worker_id, archived_at);
      CREATE INDEX chats_by_activity ON chats (state, busy, last_activity_at);
      CREATE UNIQUE INDEX chats_by_session ON chats (worker_id, opencode_session_id) WHERE opencode_session_id IS NOT NULL;

      CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        status TEXT NOT NULL CHECK (status IN ('sent', 'streaming', 'completed', 'error', 'aborted', 'interrupted')),
        reply_to TEXT REFERENCES messages (id) ON DELETE SET NULL,
        -- One reply can span several OpenCode messages (one per model step around tool calls).
        opencode_message_ids TEXT NOT NULL DEFAULT '[]',
        model TEXT,
        tokens_input INTEGER,
        tokens_output INTEGER,
        tokens_reasoning INTEGER,
        tokens_cache_read INTEGER,
        tokens_cache_write INTEGER,
        cost REAL,
        error_name TEXT,
        error_message TEXT,
        created_at INTEGER NOT NULL,
        completed_at INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX messages_by_chat ON messages (chat_id, seq);
      CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';

      CREATE TABLE message_parts (
        message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        part_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        -- The part as the API shows it (PartView), as JSON.
        data TEXT NOT NULL,
        PRIMARY KEY (message_id, part_id)
      ) STRICT;
      CREATE INDEX message_parts_by_seq ON message_parts (message_id, seq);

      -- Text of a reply in progress, appended in batches; rebuilt into parts if the daemon dies.
      CREATE TABLE stream_chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        part_id TEXT NOT NULL,
        part_kind TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX stream_chunks_by_message ON stream_chunks (message_id, id);

      CREATE TABLE chat_requests (
        id TEXT PRIMARY KEY,
        chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
        opencode_request_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('permission', 'question')),
        status TEXT NOT NULL CHECK (status IN ('pending', 'answered', 'rejected', 'expired')),
        payload TEXT NOT NULL,
        answer TEXT,
        answered_by TEXT REFERENCES users (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        answered_at INTEGER
      ) STRICT;
      CREATE UNIQUE INDEX chat_requests_by_opencode_id ON chat_requests (chat_id, opencode_request_id);
      CREATE INDEX chat_requests_by_status ON chat_requests (status, chat_id);
    `);
  },
};
