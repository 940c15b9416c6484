// Many machines, one fleet. On the hub: its network listener's settings, machine invites, and per
// machine the credential's digest, the last report applied and the link's round-trip time. On a
// joined machine (the agent side): its membership of a hub and the outbox of unacknowledged reports.
import type { Migration } from "../migrate.js";

export const hub: Migration = {
  version: 8,
  name: "hub",
  up(db) {
    db.exec(`
      ALTER TABLE machines ADD COLUMN credential_digest TEXT;
      -- The highest report sequence number applied, written in the same transaction as the report.
      ALTER TABLE machines ADD COLUMN last_report_seq INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE machines ADD COLUMN rtt_ms INTEGER;
      ALTER TABLE machines ADD COLUMN approval_reason TEXT;

      CREATE TABLE hub_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        listen_host TEXT NOT NULL,
        listen_port INTEGER NOT NULL,
        public_url TEXT,
        tls_cert_path TEXT,
        tls_key_path TEXT,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE machine_invites (
        id TEXT PRIMARY KEY,
        secret_digest TEXT NOT NULL UNIQUE,
        name TEXT,
        pre_approved INTEGER NOT NULL CHECK (pre_approved IN (0, 1)),
        created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER,
        machine_id TEXT
      ) STRICT;
      CREATE INDEX machine_invites_by_expiry ON machine_invites (expires_at);

      -- Agent side: the hub this machine joined (one at most).
      CREATE TABLE hub_membership (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        hub_url TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        name TEXT,
        machine_id TEXT,
        credential_sealed TEXT,
        invite_sealed TEXT,
        state TEXT NOT NULL CHECK (state IN ('joining', 'pending', 'approved', 'revoked', 'refused')),
        state_reason TEXT,
        connected INTEGER NOT NULL DEFAULT 0 CHECK (connected IN (0, 1)),
        last_error TEXT,
        joined_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      -- Agent side: reports not yet acknowledged by the hub. AUTOINCREMENT: a sequence number is never reused.
      CREATE TABLE link_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
    `);
  },
};
