// Users and checklists: the foundation schema.
import type { Migration } from "../migrate.js";

export const initial: Migration = {
  version: 1,
  name: "initial",
  up(db) {
    db.exec(`
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT,
        level TEXT NOT NULL CHECK (level IN ('user', 'system_admin')),
        is_owner INTEGER NOT NULL DEFAULT 0 CHECK (is_owner IN (0, 1)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      -- The machine's owner: the OS user who runs the daemon. At most one.
      CREATE UNIQUE INDEX users_single_owner ON users (is_owner) WHERE is_owner = 1;

      CREATE TABLE checklists (
        id TEXT PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        concluded_at INTEGER,
        concluded_by TEXT REFERENCES users (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE checklist_items (
        id TEXT PRIMARY KEY,
        checklist_id TEXT NOT NULL REFERENCES checklists (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        text TEXT NOT NULL,
        done_at INTEGER,
        done_by TEXT REFERENCES users (id) ON DELETE SET NULL,
        created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX checklist_items_by_position ON checklist_items (checklist_id, position);
    `);
  },
};
