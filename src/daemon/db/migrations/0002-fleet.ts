// Machines, workers and their models; and the agent's records of the processes it started.
import type { Migration } from "../migrate.js";

export const fleet: Migration = {
  version: 2,
  name: "fleet",
  up(db) {
    db.exec(`
      CREATE TABLE machines (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        hostname TEXT NOT NULL,
        platform TEXT,
        release TEXT,
        arch TEXT,
        cpus INTEGER,
        total_memory_bytes INTEGER,
        agent_version TEXT,
        is_local INTEGER NOT NULL DEFAULT 0 CHECK (is_local IN (0, 1)),
        approval TEXT NOT NULL CHECK (approval IN ('pending', 'approved', 'revoked')),
        online INTEGER NOT NULL DEFAULT 0 CHECK (online IN (0, 1)),
        last_heartbeat_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      -- The machine this daemon runs on. Exactly one once the daemon has started.
      CREATE UNIQUE INDEX machines_single_local ON machines (is_local) WHERE is_local = 1;
      CREATE INDEX machines_by_heartbeat ON machines (online, last_heartbeat_at);

      CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
        name TEXT NOT NULL UNIQUE,
        directory TEXT NOT NULL,
        approval TEXT NOT NULL CHECK (approval IN ('pending', 'approved', 'revoked')),
        desired_state TEXT NOT NULL CHECK (desired_state IN ('running', 'stopped')),
        run_state TEXT NOT NULL CHECK (run_state IN ('starting', 'idle', 'active', 'offline', 'error')),
        state_reason TEXT,
        state_changed_at INTEGER NOT NULL,
        pid INTEGER,
        started_at INTEGER,
        restart_count INTEGER NOT NULL DEFAULT 0,
        opencode_version TEXT,
        opencode_binary TEXT,
        -- The environment overlay, encrypted (it may hold provider keys).
        env_sealed TEXT,
        env_keys TEXT NOT NULL DEFAULT '[]',
        models_refreshed_at INTEGER,
        created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (machine_id, directory)
      ) STRICT;
      CREATE INDEX workers_by_machine ON workers (machine_id);

      CREATE TABLE worker_models (
        worker_id TEXT NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
        provider_id TEXT NOT NULL,
        provider_name TEXT NOT NULL,
        model_id TEXT NOT NULL,
        name TEXT NOT NULL,
        context_limit INTEGER,
        output_limit INTEGER,
        tool_call INTEGER NOT NULL,
        is_default INTEGER NOT NULL,
        PRIMARY KEY (worker_id, provider_id, model_id)
      ) STRICT;

      -- Agent-local: the processes this machine's agent started, so a later start can reap them.
      -- No foreign key: the worker's row lives on whatever hub the agent is linked to.
      CREATE TABLE worker_processes (
        pid INTEGER PRIMARY KEY,
        worker_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('opencode', 'tool')),
        start_time TEXT NOT NULL,
        recorded_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX worker_processes_by_worker ON worker_processes (worker_id);
    `);
  },
};
