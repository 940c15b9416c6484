// Auth: sessions, linked identities, login and recovery codes, login requests, provider
// configuration and the audit log. Every column a lookup filters on is indexed.
import type { Migration } from "../migrate.js";

export const auth: Migration = {
  version: 4,
  name: "auth",
  up(db) {
    db.exec(`
      -- Users created before sign-in existed (the owner) have no identity: they are anonymous.
      ALTER TABLE users ADD COLUMN is_anonymous INTEGER NOT NULL DEFAULT 1 CHECK (is_anonymous IN (0, 1));
      CREATE INDEX users_by_name ON users (name COLLATE NOCASE);
      CREATE INDEX users_by_email ON users (email COLLATE NOCASE) WHERE email IS NOT NULL;
      CREATE INDEX users_by_level ON users (level);

      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        -- SecretKeeper.digest of the bearer token; the token itself is never stored.
        token_digest TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('owner', 'anonymous', 'google', 'code', 'recovery', 'desk')),
        client_name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER,
        revoked_reason TEXT
      ) STRICT;
      CREATE INDEX sessions_by_user ON sessions (user_id, expires_at);
      CREATE INDEX sessions_by_expiry ON sessions (expires_at);

      -- One external account (provider, subject) belongs to at most one user, ever.
      CREATE TABLE identities (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        subject TEXT NOT NULL,
        email TEXT,
        email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
        display_name TEXT,
        created_at INTEGER NOT NULL,
        last_login_at INTEGER NOT NULL,
        UNIQUE (provider, subject)
      ) STRICT;
      CREATE INDEX identities_by_user ON identities (user_id);
      CREATE INDEX identities_by_email ON identities (email COLLATE NOCASE) WHERE email IS NOT NULL;

      CREATE TABLE recovery_codes (
        user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        code_digest TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      ) STRICT;

      -- Short single-use codes: 'login' from ocfleet auth code, 'desk' issued by an admin.
      CREATE TABLE login_codes (
        code_digest TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('login', 'desk')),
        issued_by TEXT REFERENCES users (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      ) STRICT;
      CREATE INDEX login_codes_by_user ON login_codes (user_id);
      CREATE INDEX login_codes_by_expiry ON login_codes (expires_at);

      -- A sign-in with an external provider in progress. Secrets in it are digested or encrypted.
      CREATE TABLE login_requests (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('loopback', 'device')),
        provider TEXT NOT NULL,
        state_digest TEXT,
        nonce_digest TEXT,
        pkce_verifier_sealed TEXT,
        device_code_sealed TEXT,
        redirect_uri TEXT,
        -- Who was signed in when it started: the account that Google gets linked to.
        user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
        poll_interval_ms INTEGER,
        next_poll_at INTEGER,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        consumed_at INTEGER
      ) STRICT;
      CREATE INDEX login_requests_by_expiry ON login_requests (expires_at);

      CREATE TABLE provider_configs (
        provider TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        -- SecretKeeper.encrypt of the client secret; no function ever returns it.
        client_secret_sealed TEXT,
        issuer TEXT NOT NULL,
        authorization_endpoint TEXT NOT NULL,
        token_endpoint TEXT NOT NULL,
        device_authorization_endpoint TEXT,
        jwks_uri TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        updated_at INTEGER NOT NULL,
        updated_by TEXT REFERENCES users (id) ON DELETE SET NULL
      ) STRICT;

      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor_id TEXT REFERENCES users (id) ON DELETE SET NULL,
        actor_name TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        details TEXT NOT NULL DEFAULT '{}'
      ) STRICT;
      CREATE INDEX audit_log_by_time ON audit_log (at);
    `);
  },
};
